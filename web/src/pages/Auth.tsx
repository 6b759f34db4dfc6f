import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { toast } from 'sonner';
import { z } from 'zod';
import { api } from '../api/client';
import { ApiError, unwrap } from '../api/errors';
import { useSession } from '../api/session';
import { ErrorBox } from '../components/ui';

const signInSchema = z.object({
  email: z.string().trim().min(1, 'Enter your email address'),
  password: z.string().min(1, 'Enter your password'),
});

const signUpSchema = z.object({
  organization_name: z.string().trim().min(1, 'Name your organization').max(100, 'At most 100 characters'),
  name: z.string().trim().min(1, 'Enter your name').max(100, 'At most 100 characters'),
  email: z.email('Enter a valid email address').max(255),
  password: z.string().min(10, 'At least 10 characters').max(256, 'At most 256 characters'),
});

const acceptSchema = z.object({
  invitation_token: z.string().trim().min(1, 'Paste the invitation token you were given').max(200, 'At most 200 characters'),
  name: z.string().trim().max(100, 'At most 100 characters'),
  password: z.string().min(10, 'At least 10 characters').max(256, 'At most 256 characters'),
});

function Shell({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="card w-full max-w-md">
        <p className="text-sm font-semibold text-indigo-600">Mediaflow</p>
        <h1 className="h1 mb-4">{title}</h1>
        {children}
      </div>
    </main>
  );
}

function Field({ id, label, error, ...input }: { id: string; label: string; error?: string } & React.InputHTMLAttributes<HTMLInputElement>) {
  return (
    <div>
      <label htmlFor={id} className="label">
        {label}
      </label>
      <input id={id} className="input mt-1" aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined} {...input} />
      {error && (
        <p id={`${id}-error`} role="alert" className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function SignInPage() {
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [error, setError] = useState<unknown>();
  const form = useForm<z.infer<typeof signInSchema>>({ resolver: zodResolver(signInSchema), defaultValues: { email: '', password: '' } });
  if (session.refreshToken) return <Navigate to="/media" replace />;
  const from = (location.state as { from?: string } | null)?.from ?? '/media';

  const onSubmit = form.handleSubmit(async (values) => {
    setError(undefined);
    try {
      const s = await unwrap(api.POST('/api/v1/auth/login', { body: values }));
      session.signIn(s);
      toast.success(`Welcome back, ${s.user.name}`);
      navigate(from, { replace: true });
    } catch (err) {
      setError(err);
    }
  });

  return (
    <Shell title="Sign in">
      {session.endedReason && (
        <p role="status" className="mb-4 rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">
          {session.endedReason}
        </p>
      )}
      <form onSubmit={onSubmit} noValidate className="space-y-4">
        <Field id="email" label="Email" type="email" autoComplete="email" error={form.formState.errors.email?.message} {...form.register('email')} />
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          error={form.formState.errors.password?.message}
          {...form.register('password')}
        />
        {error !== undefined && <ErrorBox error={error} title={error instanceof ApiError && error.status === 401 ? 'Wrong email or password' : 'Could not sign in'} />}
        <button type="submit" className="btn-primary w-full" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="mt-4 text-sm text-slate-600">
        New here?{' '}
        <Link to="/sign-up" className="font-medium text-indigo-600 underline">
          Create an organization
        </Link>{' '}
        or{' '}
        <Link to="/accept-invitation" className="font-medium text-indigo-600 underline">
          accept an invitation
        </Link>
      </p>
    </Shell>
  );
}

export function SignUpPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>();
  const form = useForm<z.infer<typeof signUpSchema>>({
    resolver: zodResolver(signUpSchema),
    defaultValues: { organization_name: '', name: '', email: '', password: '' },
  });
  if (session.refreshToken) return <Navigate to="/media" replace />;
  const e = form.formState.errors;

  const onSubmit = form.handleSubmit(async (values) => {
    setError(undefined);
    try {
      const s = await unwrap(api.POST('/api/v1/auth/register', { body: values }));
      session.signIn(s);
      toast.success(`Welcome to Mediaflow, ${s.user.name}`);
      navigate('/media', { replace: true });
    } catch (err) {
      setError(err);
    }
  });

  return (
    <Shell title="Create your organization">
      <form onSubmit={onSubmit} noValidate className="space-y-4">
        <Field id="organization_name" label="Organization" autoComplete="organization" error={e.organization_name?.message} {...form.register('organization_name')} />
        <Field id="name" label="Your name" autoComplete="name" error={e.name?.message} {...form.register('name')} />
        <Field id="email" label="Email" type="email" autoComplete="email" error={e.email?.message} {...form.register('email')} />
        <Field id="password" label="Password (10 characters or more)" type="password" autoComplete="new-password" error={e.password?.message} {...form.register('password')} />
        {error !== undefined && <ErrorBox error={error} title="Could not create the organization" />}
        <button type="submit" className="btn-primary w-full" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? 'Creating…' : 'Create organization'}
        </button>
      </form>
      <p className="mt-4 text-sm text-slate-600">
        Already have an account?{' '}
        <Link to="/sign-in" className="font-medium text-indigo-600 underline">
          Sign in
        </Link>
      </p>
    </Shell>
  );
}

/**
 * Joining an organization one was invited to. The token is pasted, never read from the URL: a link
 * carrying it would leave it in browser history, proxies and referrers.
 */
export function AcceptInvitationPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>();
  const form = useForm<z.infer<typeof acceptSchema>>({ resolver: zodResolver(acceptSchema), defaultValues: { invitation_token: '', name: '', password: '' } });
  if (session.refreshToken) return <Navigate to="/media" replace />;
  const e = form.formState.errors;

  const onSubmit = form.handleSubmit(async ({ invitation_token, name, password }) => {
    setError(undefined);
    try {
      const s = await unwrap(api.POST('/api/v1/auth/accept-invitation', { body: { invitation_token, password, ...(name ? { name } : {}) } }));
      session.signIn(s);
      toast.success(`Welcome to ${s.organization.name}, ${s.user.name}`);
      navigate('/media', { replace: true });
    } catch (err) {
      setError(err);
    }
  });

  return (
    <Shell title="Accept an invitation">
      <form onSubmit={onSubmit} noValidate className="space-y-4">
        <Field id="invitation_token" label="Invitation token" autoComplete="off" spellCheck={false} error={e.invitation_token?.message} {...form.register('invitation_token')} />
        <Field id="name" label="Your name (optional)" autoComplete="name" error={e.name?.message} {...form.register('name')} />
        <Field id="password" label="Choose a password (10 characters or more)" type="password" autoComplete="new-password" error={e.password?.message} {...form.register('password')} />
        {error !== undefined && (
          <ErrorBox error={error} title={error instanceof ApiError && error.status === 401 ? 'This invitation is not valid any more: ask for a new one' : 'Could not accept the invitation'} />
        )}
        <button type="submit" className="btn-primary w-full" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? 'Joining…' : 'Join the organization'}
        </button>
      </form>
      <p className="mt-4 text-sm text-slate-600">
        Already a member?{' '}
        <Link to="/sign-in" className="font-medium text-indigo-600 underline">
          Sign in
        </Link>
      </p>
    </Shell>
  );
}
