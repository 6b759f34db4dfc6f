import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { toast } from 'sonner';
import { api } from '../api/client';
import { unwrap } from '../api/errors';
import { useSession } from '../api/session';

const NAV = [
  ['/media', 'Media'],
  ['/run', 'Run an action'],
  ['/jobs', 'Jobs'],
  ['/usage', 'Usage'],
  ['/api-keys', 'API keys'],
  ['/webhooks', 'Webhooks'],
  ['/members', 'Members'],
] as const;

/** What the signed-in person may do (GET /auth/me), shared by every page. */
export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: () => unwrap(api.GET('/api/v1/auth/me')), staleTime: 60_000 });
}

export function useCan(permission: string): boolean {
  const me = useMe();
  return me.data?.permissions.includes(permission) ?? false;
}

export function Layout() {
  const { user, organization, refreshToken } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useMe();
  const operator = useCan('platform:admin');
  useEffect(() => setMenuOpen(false), [location.pathname]);

  // Platform operators: the cookie the Temporal Web UI's decode calls carry (docs/security.md).
  async function openCodecSession() {
    try {
      await unwrap(api.POST('/api/v1/codec/session'));
      toast.success('Codec session open: the Temporal Web UI can decode payloads in this browser for 8 hours');
    } catch (err) {
      toast.error(err instanceof Error ? err.message : 'Could not open the codec session');
    }
  }

  async function signOut() {
    try {
      if (refreshToken) await api.POST('/api/v1/auth/logout');
    } catch {
      /* signing out locally is what matters */
    }
    useSession.getState().signOut();
    toast.success('Signed out');
    navigate('/sign-in');
  }

  return (
    <div className="min-h-screen lg:flex">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <aside className="border-b border-slate-200 bg-slate-900 text-slate-100 lg:min-h-screen lg:w-60 lg:border-b-0">
        <div className="flex items-center justify-between px-4 py-3">
          <div>
            <p className="text-lg font-semibold">Mediaflow</p>
            <p className="text-xs text-slate-400" data-testid="org-name">
              {organization?.name}
            </p>
          </div>
          <button
            type="button"
            className="btn-secondary btn-sm lg:hidden"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen((o) => !o)}
          >
            Menu
          </button>
        </div>
        <nav id="main-nav" aria-label="Main" className={`${menuOpen ? 'block' : 'hidden'} px-2 pb-3 lg:block`}>
          {NAV.map(([to, label]) => (
            <NavLink
              key={to}
              to={to}
              className={({ isActive }) => `block rounded px-3 py-2 text-sm ${isActive ? 'bg-slate-700 font-medium text-white' : 'text-slate-300 hover:bg-slate-800'}`}
            >
              {label}
            </NavLink>
          ))}
          <div className="mt-4 border-t border-slate-700 px-3 pt-3 text-xs text-slate-400">
            <p className="truncate" title={user?.email}>
              {user?.name} · {user?.role}
            </p>
            <button type="button" onClick={signOut} className="mt-2 text-slate-200 underline hover:text-white">
              Sign out
            </button>
            {operator && (
              <button type="button" onClick={openCodecSession} className="mt-2 block text-slate-200 underline hover:text-white" title="Lets the Temporal Web UI decode job payloads in this browser for 8 hours">
                Temporal codec session
              </button>
            )}
          </div>
        </nav>
      </aside>
      <main id="main" className="mx-auto w-full min-w-0 max-w-6xl flex-1 p-4 lg:p-8">
        <Outlet />
      </main>
    </div>
  );
}
