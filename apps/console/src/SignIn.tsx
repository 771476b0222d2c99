import { useEffect, useId, useState, type FormEvent } from 'react';
import { call, type Problem, sessionFromToken, type Role, type Session } from './api';
import { ProblemNotice } from './forms';
import { useI18n } from './i18n';

interface DemoIdentity {
  sub: string;
  roles: Role[];
  name: string;
}

/**
 * A pasted bearer token, checked by one call to the API. While the server signs with the
 * development secret, GET /dev/tokens answers with demo identities, one per role; under
 * production auth settings it is a 404 and the picker is not shown.
 */
export function SignIn({ onSignIn }: { onSignIn: (session: Session) => void }) {
  const { t } = useI18n();
  const id = useId();
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [unreadable, setUnreadable] = useState(false);
  const [demo, setDemo] = useState<DemoIdentity[]>([]);

  useEffect(() => {
    call<{ identities: DemoIdentity[] }>('/dev/tokens').then(
      ({ body }) => setDemo(body.identities),
      () => setDemo([]),
    );
  }, []);

  async function signIn(raw: string) {
    const session = sessionFromToken(raw.trim());
    setUnreadable(!session);
    setProblem(undefined);
    if (!session) return;
    try {
      await call('/applications?limit=1', { token: session.token });
      onSignIn(session);
    } catch (error) {
      setProblem(error as Problem);
    }
  }

  async function asDemo(identity: DemoIdentity) {
    try {
      const { body } = await call<{ token: string }>('/dev/tokens', { method: 'POST', body: identity });
      await signIn(body.token);
    } catch (error) {
      setProblem(error as Problem);
    }
  }

  return (
    <main className="sign-in">
      <h1>{t('signIn.title')}</h1>
      <form
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          void signIn(token);
        }}
      >
        <div className="field">
          <label htmlFor={id}>{t('signIn.token')}</label>
          <textarea id={id} rows={4} value={token} onChange={(e) => setToken(e.target.value)} aria-describedby={`${id}-help`} spellCheck={false} />
          <span className="hint" id={`${id}-help`}>
            {t('signIn.tokenHelp')}
          </span>
        </div>
        <button type="submit">{t('signIn.submit')}</button>
      </form>
      {unreadable && (
        <p className="notice error" role="alert">
          {t('signIn.badToken')}
        </p>
      )}
      {problem && <ProblemNotice problem={problem} />}
      {demo.length > 0 && (
        <section className="dev-only" aria-labelledby={`${id}-dev`}>
          <h2 id={`${id}-dev`}>{t('signIn.devTitle')}</h2>
          <p>{t('signIn.devHelp')}</p>
          <ul className="identities">
            {demo.map((identity) => (
              <li key={identity.sub}>
                <button type="button" data-role={identity.roles.join(' ')} onClick={() => void asDemo(identity)}>
                  <strong>{identity.roles.map((r) => t(`role.${r}`)).join(', ')}</strong>
                  <span>
                    {identity.name} ({identity.sub})
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}
