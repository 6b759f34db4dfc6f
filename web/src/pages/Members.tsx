import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import { z } from 'zod';
import { api } from '../api/client';
import { unwrap } from '../api/errors';
import { useSession } from '../api/session';
import type { Role, User } from '../api/types';
import { useCan } from '../components/Layout';
import { EmptyState, ErrorBox, formatDate, PageHeader, SecretOnce, SkeletonRows, StatusBadge, toastError } from '../components/ui';

const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };
const ROLES: Role[] = ['member', 'admin', 'owner'];

const schema = z.object({
  email: z.email('Enter a valid email address'),
  name: z.string().trim().min(1, 'Enter their name').max(100),
  role: z.enum(['member', 'admin', 'owner']),
});
type Values = z.infer<typeof schema>;

export function MembersPage() {
  const queryClient = useQueryClient();
  const me = useSession((s) => s.user);
  const orgId = useSession((s) => s.organization?.id) ?? '';
  const isAdmin = useCan('org:admin');
  const myRank = me ? RANK[me.role] : 0;
  // Nobody acts above their own role: admins manage members, only owners manage admins and owners.
  const mayManage = (u: User) => u.id !== me?.id && (me?.role === 'owner' || myRank > RANK[u.role]);
  const assignable = ROLES.filter((r) => me?.role === 'owner' || RANK[r] < myRank);
  const [token, setToken] = useState<string>();
  const users = useQuery({
    queryKey: ['members', orgId],
    queryFn: () => unwrap(api.GET('/api/v1/organizations/{id}/users', { params: { path: { id: orgId } } })),
    enabled: isAdmin && Boolean(orgId),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['members', orgId] });
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { email: '', name: '', role: 'member' } });
  const e = form.formState.errors;
  const onSubmit = form.handleSubmit(async (v) => {
    try {
      const inv = await unwrap(api.POST('/api/v1/organizations/{id}/users', { params: { path: { id: orgId } }, body: v }));
      toast.success(`${inv.user.name} invited`);
      form.reset();
      setToken(inv.invitation_token);
      refresh();
    } catch (err) {
      toastError(err, 'Could not invite');
    }
  });
  const setRole = useMutation({
    mutationFn: ({ user, role }: { user: User; role: Role }) =>
      unwrap(api.PUT('/api/v1/organizations/{id}/users/{userId}/role', { params: { path: { id: orgId, userId: user.id } }, body: { role } })),
    onSuccess: (_d, { user, role }) => {
      toast.success(`${user.name} is now ${role}`);
      refresh();
    },
    onError: (err) => {
      toastError(err, 'Could not change the role');
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (user: User) => unwrap(api.DELETE('/api/v1/organizations/{id}/users/{userId}', { params: { path: { id: orgId, userId: user.id } } })),
    onSuccess: (_d, user) => {
      toast.success(`${user.name} removed`);
      refresh();
    },
    onError: (err) => toastError(err, 'Could not remove'),
  });

  if (!isAdmin) {
    return (
      <>
        <PageHeader title="Members" />
        <EmptyState title="Only owners and admins manage members">Ask an admin of your organization to invite people or change roles.</EmptyState>
      </>
    );
  }
  return (
    <>
      <PageHeader title="Members" />
      {token && (
        <SecretOnce
          label="Invitation token"
          secret={token}
          onDone={() => setToken(undefined)}
          note={
            <>
              Hand it to them privately: they paste it at <span data-testid="accept-url" className="font-mono">{`${window.location.origin}/accept-invitation`}</span> and choose their password.
            </>
          }
        />
      )}
      <form onSubmit={onSubmit} noValidate className="card mb-6 space-y-4" aria-labelledby="invite">
        <h2 id="invite" className="h2">
          Invite someone
        </h2>
        <div className="grid gap-4 sm:grid-cols-3">
          <div>
            <label htmlFor="inv-email" className="label">
              Email
            </label>
            <input id="inv-email" type="email" className="input mt-1" aria-invalid={e.email ? true : undefined} {...form.register('email')} />
            {e.email && <p className="field-error">{e.email.message}</p>}
          </div>
          <div>
            <label htmlFor="inv-name" className="label">
              Name
            </label>
            <input id="inv-name" className="input mt-1" aria-invalid={e.name ? true : undefined} {...form.register('name')} />
            {e.name && <p className="field-error">{e.name.message}</p>}
          </div>
          <div>
            <label htmlFor="inv-role" className="label">
              Role
            </label>
            <select id="inv-role" className="input mt-1" {...form.register('role')}>
              {assignable.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </div>
        </div>
        <p className="hint">They accept with the invitation token you hand them, choosing their own password.</p>
        <button type="submit" className="btn-primary" disabled={form.formState.isSubmitting}>
          Invite
        </button>
      </form>
      {users.error && <ErrorBox error={users.error} title="Could not load the members" />}
      {users.isLoading ? (
        <SkeletonRows />
      ) : (
        <div className="card overflow-x-auto p-0">
          <table className="data-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                <th>Status</th>
                <th>Last sign-in</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data?.users.map((u) => (
                <tr key={u.id} data-testid="member-row">
                  <td className="font-medium">
                    {u.name}
                    {u.id === me?.id && <span className="ml-1 text-xs text-slate-500">(you)</span>}
                  </td>
                  <td>{u.email}</td>
                  <td>
                    {mayManage(u) ? (
                      <>
                        <label htmlFor={`role-${u.id}`} className="sr-only">
                          Role of {u.name}
                        </label>
                        <select id={`role-${u.id}`} className="input py-1" value={u.role} onChange={(ev) => setRole.mutate({ user: u, role: ev.target.value as Role })}>
                          {ROLES.filter((r) => assignable.includes(r) || r === u.role).map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      </>
                    ) : (
                      u.role
                    )}
                  </td>
                  <td>
                    <StatusBadge status={u.status} />
                  </td>
                  <td className="text-xs">{formatDate(u.last_login_at)}</td>
                  <td className="text-right">
                    {mayManage(u) && (
                      <button type="button" className="btn-danger btn-sm" onClick={() => window.confirm(`Remove ${u.name} from the organization?`) && remove.mutate(u)}>
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
