import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { loadSession, saveSession, SIGNED_OUT, type Session } from './api';
import { ApplicationPage } from './ApplicationPage';
import { Board } from './Board';
import { Budget } from './Budget';
import { NewApplication, NewProgramme } from './Create';
import { I18nContext, translate, type Lang } from './i18n';
import { Link, useRoute } from './nav';
import { Outcomes } from './Outcomes';
import { SignIn } from './SignIn';
import './styles.css';

const LANG = 'kcflow.lang';
const REPORT_ROLES = ['admin', 'committee', 'finance', 'inspector'];

function App() {
  const [lang, setLang] = useState<Lang>(() => (localStorage.getItem(LANG) === 'en' ? 'en' : 'vi'));
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const route = useRoute();
  const i18n = useMemo(() => ({ lang, t: (key: string, vars?: Record<string, string | number>) => translate(lang, key, vars) }), [lang]);
  useEffect(() => {
    document.documentElement.lang = lang;
    localStorage.setItem(LANG, lang);
  }, [lang]);

  const signIn = (next: Session | undefined) => {
    saveSession(next);
    setSession(next);
  };
  useEffect(() => {
    const signOut = () => signIn(undefined);
    addEventListener(SIGNED_OUT, signOut);
    return () => removeEventListener(SIGNED_OUT, signOut);
  }, []);
  const { t } = i18n;
  const can = (roles: string[]) => session?.roles.some((r) => roles.includes(r)) ?? false;

  let page;
  if (!session) page = <SignIn onSignIn={signIn} />;
  else if (route.path === 'budget') page = <Budget session={session} route={route} />;
  else if (route.path === 'outcomes') page = <Outcomes session={session} route={route} />;
  else if (route.path === 'applications/new') page = <NewApplication session={session} programmeId={route.query.get('programmeId') ?? ''} />;
  else if (route.path === 'programmes/new') page = <NewProgramme session={session} />;
  else if (route.path.startsWith('applications/')) page = <ApplicationPage key={route.path} session={session} id={route.path.slice('applications/'.length)} />;
  else page = <Board session={session} route={route} />;

  return (
    <I18nContext.Provider value={i18n}>
      <header className="top">
        <Link to="" className="brand">
          {t('app.title')}
        </Link>
        {session && (
          <nav aria-label="main">
            <Link to="">{t('nav.board')}</Link>
            {can(REPORT_ROLES) && <Link to="budget">{t('nav.budget')}</Link>}
            {can(REPORT_ROLES) && <Link to="outcomes">{t('nav.outcomes')}</Link>}
            {can(['applicant']) && <Link to="applications/new">{t('nav.newApplication')}</Link>}
            {can(['admin']) && <Link to="programmes/new">{t('nav.newProgramme')}</Link>}
          </nav>
        )}
        <div className="who">
          {session && (
            <span data-testid="who">
              {t('nav.signedInAs')} <strong>{session.name ?? session.sub}</strong> ({session.roles.map((r) => t(`role.${r}`)).join(', ')})
            </span>
          )}
          <button type="button" className="link" lang={lang === 'vi' ? 'en' : 'vi'} onClick={() => setLang(lang === 'vi' ? 'en' : 'vi')}>
            {t('nav.language')}
          </button>
          {session && (
            <button type="button" className="link" onClick={() => signIn(undefined)}>
              {t('nav.signOut')}
            </button>
          )}
        </div>
      </header>
      {page}
    </I18nContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
