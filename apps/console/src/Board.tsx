import { useId, useState, type FormEvent } from 'react';
import { call, type ApplicationListItem, type Session } from './api';
import { formatDate, formatVnd } from './format';
import { CATEGORIES, ProblemNotice } from './forms';
import { useI18n } from './i18n';
import { Link, navigate, useLoad, type Route } from './nav';

const STAGES = ['submitted', 'revision_requested', 'reviewed', 'approved', 'evaluated', 'closed'] as const;
const FOLDED = ['rejected', 'withdrawn'] as const;
const FILTERS = ['programmeId', 'category', 'district', 'search'] as const;
const MAX_PAGES = 10;

/** Every application matching the filters (GET /applications, page by page). */
async function loadAll(query: URLSearchParams, token: string): Promise<ApplicationListItem[]> {
  const items: ApplicationListItem[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const params = new URLSearchParams(query);
    params.set('limit', '200');
    if (cursor) params.set('cursor', cursor);
    const { body } = await call<{ items: ApplicationListItem[]; nextCursor: string | null }>(`/applications?${params}`, { token });
    items.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return items;
}

export function Board({ session, route }: { session: Session; route: Route }) {
  const { t } = useI18n();
  const id = useId();
  const query = new URLSearchParams([...route.query].filter(([k, v]) => (FILTERS as readonly string[]).includes(k) && v !== ''));
  const [filters, setFilters] = useState<Record<string, string>>(() => Object.fromEntries(FILTERS.map((f) => [f, route.query.get(f) ?? ''])));
  const list = useLoad(() => loadAll(query, session.token), [query.toString(), session.token]);
  const items = list.data ?? [];
  const programmes = [...new Set(items.map((i) => i.programmeId))].sort();
  const districts = [...new Set(items.map((i) => i.district))].sort((a, b) => a.localeCompare(b, 'vi'));

  function apply(event: FormEvent) {
    event.preventDefault();
    const next = new URLSearchParams(Object.entries(filters).filter(([, v]) => v.trim() !== ''));
    navigate(next.size ? `?${next}` : '', true);
  }
  const input = (name: (typeof FILTERS)[number], options?: string[]) => (
    <input
      id={`${id}-${name}`}
      list={options && `${id}-${name}-list`}
      value={filters[name]}
      onChange={(e) => setFilters((f) => ({ ...f, [name]: e.target.value }))}
    />
  );

  return (
    <main>
      <h1>{t('board.title')}</h1>
      <form className="filters" onSubmit={apply} role="search">
        <div className="field">
          <label htmlFor={`${id}-programmeId`}>{t('common.programme')}</label>
          {input('programmeId', programmes)}
        </div>
        <div className="field">
          <label htmlFor={`${id}-category`}>{t('board.category')}</label>
          <select id={`${id}-category`} value={filters.category} onChange={(e) => setFilters((f) => ({ ...f, category: e.target.value }))}>
            <option value="">{t('common.all')}</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {t(`category.${c}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-district`}>{t('board.district')}</label>
          {input('district', districts)}
        </div>
        <div className="field grow">
          <label htmlFor={`${id}-search`}>{t('board.search')}</label>
          {input('search')}
        </div>
        <button type="submit">{t('board.apply')}</button>
        <datalist id={`${id}-programmeId-list`}>{programmes.map((p) => <option key={p} value={p} />)}</datalist>
        <datalist id={`${id}-district-list`}>{districts.map((d) => <option key={d} value={d} />)}</datalist>
      </form>
      <p className="muted">
        {t('board.lag')}{' '}
        <button type="button" className="link" onClick={list.reload}>
          {t('common.refresh')}
        </button>
      </p>
      {list.problem && <ProblemNotice problem={list.problem} />}
      <div className="board" aria-busy={list.loading}>
        {STAGES.map((stage) => (
          <Column key={stage} stage={stage} items={items.filter((i) => i.status === stage)} />
        ))}
      </div>
      <details className="folded">
        <summary>
          {t('board.folded')} ({items.filter((i) => (FOLDED as readonly string[]).includes(i.status)).length})
        </summary>
        <div className="board">
          {FOLDED.map((stage) => (
            <Column key={stage} stage={stage} items={items.filter((i) => i.status === stage)} />
          ))}
        </div>
      </details>
    </main>
  );
}

function Column({ stage, items }: { stage: string; items: ApplicationListItem[] }) {
  const { t } = useI18n();
  return (
    <section className="column" data-stage={stage} aria-label={t(`status.${stage}`)}>
      <h2>
        {t(`status.${stage}`)} <span className="count">{items.length}</span>
      </h2>
      {items.length === 0 && <p className="muted">{t('board.empty')}</p>}
      <ul>
        {items.map((item) => (
          <li key={item.id} className="card">
            <Link to={`applications/${item.id}`}>
              <strong>{item.applicantName}</strong>
              <span>{item.title}</span>
            </Link>
            <span className="muted">
              {item.district} · {t(`category.${item.category}`)} · {formatDate(item.submittedAt)}
            </span>
            <span>
              {formatVnd(item.approvedAmount ?? item.requestedAmount)}
              {item.paymentStatus !== 'none' && <span className={`badge ${item.paymentStatus}`}>{t(`payment.${item.paymentStatus}`)}</span>}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
