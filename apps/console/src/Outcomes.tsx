import { useId, useState, type FormEvent } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { call, type Session } from './api';
import { Exports } from './Budget';
import { formatNumber, formatVnd } from './format';
import { ProblemNotice } from './forms';
import { useI18n } from './i18n';
import { navigate, ProgrammePicker, useLoad, type Route } from './nav';

interface OutcomesReport {
  indicators: Array<{ indicator: string; target: { min: number; max: number } | null; expected: number; achieved: number; percentOfMin: number | null }>;
  supportedFacilities?: number | { achieved?: number; expected?: number; target?: { min: number; max: number } | null };
}

const percent = (value: number, target: { min: number } | null) => (target && target.min > 0 ? Math.round((1000 * value) / target.min) / 10 : null);

/** GET /reports/outcomes (for one programme, or summed over years): each indicator against its target range. */
export function Outcomes({ session, route }: { session: Session; route: Route }) {
  const { t } = useI18n();
  const id = useId();
  const programmeId = route.query.get('programmeId') ?? '';
  const from = route.query.get('from') ?? '';
  const to = route.query.get('to') ?? '';
  const [mode, setMode] = useState<'programme' | 'years'>(from || to ? 'years' : 'programme');
  const [years, setYears] = useState({ from: from || '2021', to: to || '2025' });
  const query = mode === 'programme' ? (programmeId ? `programmeId=${encodeURIComponent(programmeId)}` : '') : from && to ? `from=${from}&to=${to}` : '';
  const report = useLoad(
    () => (query ? call<OutcomesReport>(`/reports/outcomes?${query}`, { token: session.token }).then((a) => a.body) : Promise.resolve(undefined)),
    [query, session.token],
  );
  const rows =
    report.data?.indicators.map((i) => ({
      ...i,
      label: t(`indicator.${i.indicator}`),
      expectedPercent: percent(i.expected, i.target),
      achievedPercent: i.percentOfMin ?? percent(i.achieved, i.target),
    })) ?? [];
  const amount = (indicator: string, value: number) => (indicator === 'export_value_vnd' ? formatVnd(value) : formatNumber(value));
  const facilities = report.data?.supportedFacilities;

  return (
    <main>
      <h1>{t('outcomes.title')}</h1>
      <div className="toolbar">
        <div role="radiogroup" aria-label={t('outcomes.title')} className="segmented">
          {(['programme', 'years'] as const).map((m) => (
            <label key={m}>
              <input type="radio" name={`${id}-mode`} checked={mode === m} onChange={() => setMode(m)} />
              {t(m === 'programme' ? 'outcomes.oneProgramme' : 'outcomes.years')}
            </label>
          ))}
        </div>
        {mode === 'programme' ? (
          <ProgrammePicker session={session} value={programmeId} onChange={(p) => navigate(`outcomes?programmeId=${encodeURIComponent(p)}`)} />
        ) : (
          <form
            className="inline"
            onSubmit={(event: FormEvent) => {
              event.preventDefault();
              navigate(`outcomes?from=${encodeURIComponent(years.from)}&to=${encodeURIComponent(years.to)}`);
            }}
          >
            {(['from', 'to'] as const).map((end) => (
              <span key={end}>
                <label htmlFor={`${id}-${end}`}>{t(`outcomes.${end}`)}</label>
                <input id={`${id}-${end}`} inputMode="numeric" size={5} value={years[end]} onChange={(e) => setYears((y) => ({ ...y, [end]: e.target.value }))} />
              </span>
            ))}
            <button type="submit">{t('common.show')}</button>
          </form>
        )}
        {query && <Exports session={session} report="outcomes" query={query} />}
      </div>
      {/* The report route itself missing (an older server) is not an error of the user's. */}
      {report.problem &&
        (report.problem.status === 404 && report.problem.detail.startsWith('Cannot GET') ? (
          <p className="notice" role="status">
            {t('outcomes.unavailable')}
          </p>
        ) : (
          <ProblemNotice problem={report.problem} />
        ))}
      {report.data && (
        <section className="panel">
          {facilities !== undefined && (
            <p className="stat">
              {t('outcomes.facilities')}: <strong>{formatNumber(typeof facilities === 'number' ? facilities : (facilities.achieved ?? facilities.expected))}</strong>
            </p>
          )}
          <figure className="chart" aria-label={t('outcomes.percent')}>
            <ResponsiveContainer width="100%" height={80 + rows.length * 48}>
              <BarChart data={rows} layout="vertical" margin={{ left: 8, right: 16 }}>
                <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                {/* The scale always reaches 100 %, so the target's minimum is on the chart. */}
                <XAxis type="number" unit=" %" domain={[0, (max: number) => Math.max(100, Math.ceil(max / 10) * 10)]} />
                <YAxis type="category" dataKey="label" width={220} tick={{ fontSize: 13 }} />
                <Tooltip formatter={(value) => `${formatNumber(Number(value))} %`} />
                <Legend itemSorter={null} />
                <ReferenceLine x={100} stroke="#dc2626" strokeDasharray="4 4" label={{ value: t('outcomes.min'), position: 'top', fill: '#dc2626', fontSize: 12 }} />
                <Bar dataKey="expectedPercent" name={t('outcomes.expected')} fill="#93c5fd" isAnimationActive={false} />
                <Bar dataKey="achievedPercent" name={t('outcomes.achieved')} fill="#16a34a" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </figure>
          <table data-testid="outcomes-table">
            <thead>
              <tr>
                <th scope="col">{t('outcomes.indicator')}</th>
                <th scope="col" className="num">{t('outcomes.target')}</th>
                <th scope="col" className="num">{t('outcomes.expected')}</th>
                <th scope="col" className="num">{t('outcomes.achieved')}</th>
                <th scope="col">{t('outcomes.percent')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.indicator}>
                  <th scope="row">{row.label}</th>
                  <td className="num">{row.target ? `${amount(row.indicator, row.target.min)} – ${amount(row.indicator, row.target.max)}` : '—'}</td>
                  <td className="num">{amount(row.indicator, row.expected)}</td>
                  <td className="num">{amount(row.indicator, row.achieved)}</td>
                  <td>
                    {row.achievedPercent == null ? (
                      '—'
                    ) : (
                      <span className="meter">
                        <span style={{ width: `${Math.min(100, row.achievedPercent)}%` }} className={row.achievedPercent >= 100 ? 'met' : ''} />
                        <em>{formatNumber(row.achievedPercent)} %</em>
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </main>
  );
}
