import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { useSession } from './api/session';
import { Layout } from './components/Layout';
import { ApiKeysPage } from './pages/ApiKeys';
import { JobPage } from './pages/Job';
import { JobsPage } from './pages/Jobs';
import { MediaDetailPage } from './pages/MediaDetail';
import { MediaPage } from './pages/Media';
import { MembersPage } from './pages/Members';
import { RunPage } from './pages/Run';
import { AcceptInvitationPage, SignInPage, SignUpPage } from './pages/Auth';
import { SkeletonRows } from './components/ui';

// Recharts is most of the bundle: only the usage page needs it.
const UsagePage = lazy(() => import('./pages/Usage').then((m) => ({ default: m.UsagePage })));
import { WebhooksPage } from './pages/Webhooks';

function RequireSession({ children }: { children: React.ReactNode }) {
  const signedIn = useSession((s) => Boolean(s.refreshToken));
  const location = useLocation();
  if (!signedIn) return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  return children;
}

export function App() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignInPage />} />
      <Route path="/sign-up" element={<SignUpPage />} />
      <Route path="/accept-invitation" element={<AcceptInvitationPage />} />
      <Route
        element={
          <RequireSession>
            <Layout />
          </RequireSession>
        }
      >
        <Route index element={<Navigate to="/media" replace />} />
        <Route path="/media" element={<MediaPage />} />
        <Route path="/media/:id" element={<MediaDetailPage />} />
        <Route path="/run" element={<RunPage />} />
        <Route path="/jobs" element={<JobsPage />} />
        <Route path="/jobs/:id" element={<JobPage />} />
        <Route path="/api-keys" element={<ApiKeysPage />} />
        <Route path="/webhooks" element={<WebhooksPage />} />
        <Route
          path="/usage"
          element={
            <Suspense fallback={<SkeletonRows rows={6} />}>
              <UsagePage />
            </Suspense>
          }
        />
        <Route path="/members" element={<MembersPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function NotFound() {
  return (
    <div className="card">
      <h1 className="h1">Page not found</h1>
      <p className="mt-2 text-sm text-slate-600">There is nothing at this address.</p>
    </div>
  );
}
