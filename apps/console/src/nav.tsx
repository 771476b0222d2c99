import { useCallback, useEffect, useId, useState, type AnchorHTMLAttributes, type DependencyList } from 'react';
import { call, Problem, type ApplicationListItem, type Session } from './api';
import { useI18n } from './i18n';

/** Routes are paths under /console/ (the server answers each with index.html). */
export const BASE = '/console/';

export interface Route {
  path: string;
  query: URLSearchParams;
}

const current = (): Route => ({
  path: location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length).replace(/\/$/, '') : '',
  query: new URLSearchParams(location.search),
});

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

export function navigate(to: string, replace = false): void {
  history[replace ? 'replaceState' : 'pushState'](null, '', BASE + to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function Link({ to, ...props }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  return (
    <a
      {...props}
      href={BASE + to}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(to);
      }}
    />
  );
}

export interface Loaded<T> {
  data?: T;
  problem?: Problem;
  loading: boolean;
  reload: () => void;
}

/** The answer of `load`, again whenever `deps` change or `reload()` is called. */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [state, setState] = useState<{ data?: T; problem?: Problem; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ problem: error instanceof Problem ? error : new Problem(0, 'Error', String(error)), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: useCallback(() => setTick((n) => n + 1), []) };
}

const KNOWN = 'kcflow.programmes';

export function rememberProgramme(id: string): void {
  const known = new Set<string>(JSON.parse(localStorage.getItem(KNOWN) ?? '[]') as string[]);
  known.add(id);
  localStorage.setItem(KNOWN, JSON.stringify([...known].sort()));
}

/** Programme ids this browser has used, and those of the applications the user can see. */
function useKnownProgrammes(session: Session): string[] {
  const [ids, setIds] = useState<string[]>(() => JSON.parse(localStorage.getItem(KNOWN) ?? '[]') as string[]);
  useEffect(() => {
    call<{ items: ApplicationListItem[] }>('/applications?limit=200', { token: session.token }).then(
      ({ body }) => setIds((known) => [...new Set([...known, ...body.items.map((i) => i.programmeId)])].sort()),
      () => undefined,
    );
  }, [session.token]);
  return ids;
}

/** A programme id: typed, or chosen from the known ones (a datalist, so the keyboard works). */
export function ProgrammePicker({ session, value, onChange }: { session: Session; value: string; onChange: (id: string) => void }) {
  const { t } = useI18n();
  const id = useId();
  const known = useKnownProgrammes(session);
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <form
      className="inline"
      onSubmit={(event) => {
        event.preventDefault();
        onChange(text.trim());
      }}
    >
      <label htmlFor={id}>{t('common.programme')}</label>
      <input id={id} list={`${id}-list`} value={text} onChange={(e) => setText(e.target.value)} />
      <datalist id={`${id}-list`}>
        {known.map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
      <button type="submit">{t('common.show')}</button>
    </form>
  );
}
