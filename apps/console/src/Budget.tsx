import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { call, download, Problem, type Session } from './api';
import { formatCompact, formatNumber, formatVnd } from './format';
import { ProblemNotice } from './forms';
import { useI18n } from './i18n';
import { navigate, ProgrammePicker, rememberProgramme, useLoad, type Route } from './nav';

type Figures = { allocated: number; committed: number; disbursed: number; available: number };
interface ProgrammeBudget {
  programmeId: string;
  categories: Array<{ category: string } & Figures>;
  totals: Figures;
  districts?: Array<{ district: string; committed: number; disbursed: number; applications: number }>;
}

const SERIES = [
  { key: 'allocated', color: '#94a3b8' },
  { key: 'committed', color: '#2563eb' },
  { key: 'disbursed', color: '#16a34a' },
  { key: 'available', color: '#f59e0b' },
] as const;

export function Budget({ session, route }: { session: Session; route: Route }) {
  const { t } = useI18n();
  const programmeId = route.query.get('programmeId') ?? '';
  const budget = useLoad(
    () =>
      programmeId
        ? call<ProgrammeBudget>(`/programmes/${encodeURIComponent(programmeId)}/budget`, { token: session.token }).then((a) => {
            rememberProgramme(programmeId);
            return a.body;
          })
        : Promise.resolve(undefined),
    [programmeId, session.token],
  );
  const data = budget.data;
  const rows = data?.categories.map((c) => ({ ...c, label: t(`category.${c.category}`) })) ?? [];

  return (
    <main>
      <h1>{t('budget.title')}</h1>
      <div className="toolbar">
        <ProgrammePicker session={session} value={programmeId} onChange={(id) => navigate(`budget?programmeId=${encodeURIComponent(id)}`)} />
        {programmeId && (
          <>
            <Exports session={session} report="budget" query={`programmeId=${encodeURIComponent(programmeId)}`} />
            <button type="button" onClick={budget.reload}>
              {t('common.refresh')}
            </button>
          </>
        )}
      </div>
      {!programmeId && <p className="muted">{t('budget.pick')}</p>}
      {budget.problem && <ProblemNotice problem={budget.problem} />}
      {data && (
        <>
          <p className="muted">{t('budget.lag')}</p>
          <section className="panel" aria-labelledby="by-category">
            <h2 id="by-category">{t('budget.byCategory')}</h2>
            <figure className="chart" data-testid="budget-chart" aria-label={t('budget.byCategory')}>
              {/* Horizontal bars: long category names stay readable, however many there are. */}
              <ResponsiveContainer width="100%" height={80 + rows.length * 84}>
                <BarChart data={rows} layout="vertical" margin={{ left: 8, right: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                  <XAxis type="number" tickFormatter={formatCompact} />
                  <YAxis type="category" dataKey="label" width={190} tick={{ fontSize: 13 }} />
                  <Tooltip formatter={(value) => formatVnd(Number(value))} />
                  <Legend itemSorter={null} />
                  {SERIES.map((s) => (
                    <Bar key={s.key} dataKey={s.key} name={t(`budget.${s.key}`)} fill={s.color} className={`bar-${s.key}`} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </figure>
            <table data-testid="budget-table">
              <thead>
                <tr>
                  <th scope="col">{t('board.category')}</th>
                  {SERIES.map((s) => (
                    <th scope="col" key={s.key} className="num">
                      {t(`budget.${s.key}`)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.category} data-category={row.category}>
                    <th scope="row">{row.label}</th>
                    {SERIES.map((s) => (
                      <td key={s.key} className="num" data-series={s.key}>
                        {formatVnd(row[s.key])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr data-category="total">
                  <th scope="row">{t('common.total')}</th>
                  {SERIES.map((s) => (
                    <td key={s.key} className="num" data-series={s.key}>
                      {formatVnd(data.totals[s.key])}
                    </td>
                  ))}
                </tr>
              </tfoot>
            </table>
          </section>
          <section className="panel" aria-labelledby="by-district">
            <h2 id="by-district">{t('budget.byDistrict')}</h2>
            {(data.districts ?? []).length === 0 ? (
              <p className="muted">{t('common.none')}</p>
            ) : (
              <>
                <figure className="chart" aria-label={t('budget.byDistrict')}>
                  <ResponsiveContainer width="100%" height={Math.max(120, 36 * (data.districts ?? []).length + 40)}>
                    <BarChart data={data.districts} layout="vertical" margin={{ left: 8, right: 16 }}>
                      <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                      <XAxis type="number" tickFormatter={formatCompact} />
                      <YAxis type="category" dataKey="district" width={190} tick={{ fontSize: 13 }} />
                      <Tooltip formatter={(value) => formatVnd(Number(value))} />
                      <Legend itemSorter={null} />
                      <Bar dataKey="committed" name={t('budget.committed')} fill="#2563eb" isAnimationActive={false} />
                      <Bar dataKey="disbursed" name={t('budget.disbursed')} fill="#16a34a" isAnimationActive={false} />
                    </BarChart>
                  </ResponsiveContainer>
                </figure>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t('board.district')}</th>
                      <th scope="col" className="num">{t('budget.committed')}</th>
                      <th scope="col" className="num">{t('budget.disbursed')}</th>
                      <th scope="col" className="num">{t('budget.applications')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.districts?.map((d) => (
                      <tr key={d.district}>
                        <th scope="row">{d.district}</th>
                        <td className="num">{formatVnd(d.committed)}</td>
                        <td className="num">{formatVnd(d.disbursed)}</td>
                        <td className="num">{formatNumber(d.applications)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            )}
          </section>
        </>
      )}
    </main>
  );
}

/** CSV and XLSX of a report (GET /reports/<report>.csv|.xlsx): fetched with the token, then saved. */
export function Exports({ session, report, query }: { session: Session; report: 'budget' | 'outcomes'; query: string }) {
  const { t, lang } = useI18n();
  const [problem, setProblem] = useState<Problem>();
  return (
    <span className="exports">
      {(['csv', 'xlsx'] as const).map((format) => {
        const path = `/reports/${report}.${format}?${query}&lang=${lang}`;
        return (
          <a
            key={format}
            className="button"
            href={path}
            onClick={(event) => {
              event.preventDefault();
              setProblem(undefined);
              download(path, session.token, `${report}.${format}`).catch((error: unknown) => setProblem(error as Problem));
            }}
          >
            {t(`${report}.export${format === 'csv' ? 'Csv' : 'Xlsx'}`)}
          </a>
        );
      })}
      {problem && <ProblemNotice problem={problem} />}
    </span>
  );
}
