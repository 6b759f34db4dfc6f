import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { Session } from './types';

export interface SessionState {
  accessToken?: string;
  refreshToken?: string;
  /** Epoch ms when the access token expires. */
  accessExpiresAt?: number;
  user?: Session['user'];
  organization?: Session['organization'];
  /** Why the last session ended (shown on the sign-in page); never persisted. */
  endedReason?: string;
  signIn(session: Session): void;
  updateTokens(session: Session): void;
  signOut(reason?: string): void;
}

/**
 * The signed-in session. Only the session tokens and who is signed in are persisted (localStorage,
 * so a reload keeps the session); API key and webhook secrets live in component state only.
 */
export const useSession = create<SessionState>()(
  persist(
    (set) => ({
      signIn: (s) => set({ ...fromSession(s), endedReason: undefined }),
      updateTokens: (s) => set(fromSession(s)),
      signOut: (reason) =>
        set({ accessToken: undefined, refreshToken: undefined, accessExpiresAt: undefined, user: undefined, organization: undefined, endedReason: reason }),
    }),
    {
      name: 'mediaflow.session',
      storage: createJSONStorage(() => localStorage),
      partialize: ({ accessToken, refreshToken, accessExpiresAt, user, organization }) => ({ accessToken, refreshToken, accessExpiresAt, user, organization }),
    },
  ),
);

const fromSession = (s: Session) => ({
  accessToken: s.access_token,
  refreshToken: s.refresh_token,
  accessExpiresAt: Date.now() + s.expires_in * 1000,
  user: s.user,
  organization: s.organization,
});
