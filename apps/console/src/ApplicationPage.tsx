import { useEffect, useId, useState } from 'react';
import { call, type ApplicationView, type Session } from './api';
import { TRANSITIONS, transitionsFor } from './commands';
import { formatDate, formatDateTime, formatNumber, formatVnd } from './format';
import { CommandForm, ProblemNotice } from './forms';
import { useI18n } from './i18n';
import { Link, useLoad } from './nav';

interface HistoryEvent {
  revision: number;
  type: string;
  data: Record<string, unknown>;
  metadata: { actorId: string; role: string; actorName?: string; at: string };
}
interface History {
  events: HistoryEvent[];
  state: ApplicationView | null;
}

export function ApplicationPage({ session, id }: { session: Session; id: string }) {
  const { t } = useI18n();
  const loaded = useLoad(() => call<ApplicationView>(`/applications/${encodeURIComponent(id)}`, { token: session.token }), [id, session.token]);
  const application = loaded.data?.body;
  const auditor = session.roles.some((r) => r === 'inspector' || r === 'admin');

  if (!application) {
    return <main>{loaded.problem ? <ProblemNotice problem={loaded.problem} /> : <p>{t('common.loading')}</p>}</main>;
  }
  // Inspectors only read: no actions panel at all for a role that never acts.
  const acts = TRANSITIONS.some((transition) => session.roles.includes(transition.role));
  return (
    <main className="application">
      <p>
        <Link to="">← {t('nav.board')}</Link>
      </p>
      <h1>
        {application.applicant.name} — {application.project.title}
      </h1>
      <p className="status-line">
        <span className={`status ${application.status}`}>{t(`status.${application.status}`)}</span>
        <span className={`badge ${application.paymentStatus}`}>{t(`payment.${application.paymentStatus}`)}</span>
        <span className="muted">
          {application.programmeId} · {t(`category.${application.category}`)} · rev. {application.revision}
        </span>
      </p>
      <div className="columns">
        <div>
          <Dossier application={application} />
        </div>
        <div>
          {acts && <Actions application={application} session={session} etag={loaded.data?.etag} onChanged={loaded.reload} />}
          {auditor && <Timeline session={session} id={id} latest={application.revision} />}
        </div>
      </div>
    </main>
  );
}

/** The forms of the transitions the signed-in role may take now, posted with If-Match. */
function Actions({ application, session, etag, onChanged }: { application: ApplicationView; session: Session; etag?: string; onChanged: () => void }) {
  const { t } = useI18n();
  const [done, setDone] = useState<string>();
  const actions = transitionsFor(application, session);
  return (
    <section aria-labelledby="actions-title" className="panel">
      <h2 id="actions-title">{t('app.actions')}</h2>
      {done && (
        <p className="notice ok" role="status">
          {done}
        </p>
      )}
      {actions.length === 0 && <p className="muted">{t('app.noActions')}</p>}
      {actions.map((action, index) => (
        <details key={`${action.action}-${application.revision}`} open={index === 0} className="action" data-action={action.action}>
          <summary>{t(`action.${action.action}`)}</summary>
          <CommandForm
            title={t(`action.${action.action}`)}
            fields={action.fields}
            initial={action.initial?.(application)}
            onReload={onChanged}
            onSubmit={async (body) => {
              await call(`/applications/${encodeURIComponent(application.id)}/${action.path}`, { method: 'POST', body, ifMatch: etag, token: session.token });
              setDone(`${t(`action.${action.action}`)}: ${t('app.done')}`);
              onChanged();
            }}
          />
        </details>
      ))}
    </section>
  );
}

function Dossier({ application: a }: { application: ApplicationView }) {
  const { t } = useI18n();
  const outcomes = (values: Record<string, number>) => (
    <ul className="plain">
      {Object.entries(values).map(([k, v]) => (
        <li key={k}>
          {t(`indicator.${k}`)}: {k === 'export_value_vnd' ? formatVnd(v) : formatNumber(v)}
        </li>
      ))}
    </ul>
  );
  return (
    <section className="panel dossier" aria-label={t('app.dossier')}>
      <h2>{t('app.applicant')}</h2>
      <dl>
        <dt>{t('field.applicant.name')}</dt>
        <dd>
          {a.applicant.name} ({t(`kind.${a.applicant.kind}`)})
        </dd>
        <dt>{t('app.taxCode')}</dt>
        <dd>{a.applicant.taxCode}</dd>
        <dt>{t('app.address')}</dt>
        <dd>{[a.applicant.craftVillage, a.applicant.commune, a.applicant.district].filter(Boolean).join(', ')}</dd>
      </dl>
      <h2>{t('app.project')}</h2>
      <p>
        <strong>{a.project.title}</strong>
      </p>
      {a.project.description && <p>{a.project.description}</p>}
      <h3>{t('app.expectedOutcomes')}</h3>
      {outcomes(a.project.expectedOutcomes)}
      <h2>{t('app.amounts')}</h2>
      <dl className="amounts">
        <dt>{t('app.totalCost')}</dt>
        <dd>{formatVnd(a.project.totalCost)}</dd>
        <dt>{t('app.requested')}</dt>
        <dd>{formatVnd(a.project.requestedAmount)}</dd>
        {a.review?.recommendedAmount != null && (
          <>
            <dt>{t('app.recommended')}</dt>
            <dd>{formatVnd(a.review.recommendedAmount)}</dd>
          </>
        )}
        <dt>{t('app.approved')}</dt>
        <dd data-field="approvedAmount">{formatVnd(a.approvedAmount)}</dd>
        <dt>{t('app.disbursed')}</dt>
        <dd data-field="disbursedAmount">{formatVnd(a.disbursedAmount)}</dd>
      </dl>
      {a.revisionRequest && a.status === 'revision_requested' && (
        <p>
          <strong>{t('app.revisionReason')}:</strong> {a.revisionRequest.reason}
        </p>
      )}
      {a.review && (
        <p>
          <strong>{t('app.review')}:</strong> {a.review.score} {t('app.score')} — {t(`recommendation.${a.review.recommendation}`)}
          {a.review.notes ? ` — ${a.review.notes}` : ''}
        </p>
      )}
      {a.decision && (
        <p>
          <strong>{t('app.decision')}:</strong> {t(`status.${a.decision.outcome}`)}
          {a.decision.decisionNumber ? ` — ${a.decision.decisionNumber}` : ''}
          {a.decision.decisionDate ? ` (${formatDate(a.decision.decisionDate)})` : ''}
          {a.decision.reason ? ` — ${a.decision.reason}` : ''}
        </p>
      )}
      {a.disbursements.length > 0 && (
        <>
          <h3>{t('app.payments')}</h3>
          <ul className="plain">
            {a.disbursements.map((d) => (
              <li key={d.paymentRef}>
                {formatDate(d.paidAt)} — {d.paymentRef} — {formatVnd(d.amount)}
              </li>
            ))}
          </ul>
        </>
      )}
      {a.evaluation && (
        <>
          <h3>
            {t('app.evaluation')}: {t(`rating.${a.evaluation.rating}`)}
          </h3>
          {outcomes(a.evaluation.outcomes)}
        </>
      )}
    </section>
  );
}

/** The event log with who did what when, and a slider replaying the application at any revision. */
function Timeline({ session, id, latest }: { session: Session; id: string; latest: number }) {
  const { t } = useI18n();
  const sliderId = useId();
  const path = `/applications/${encodeURIComponent(id)}/history`;
  const history = useLoad(() => call<History>(path, { token: session.token }).then((a) => a.body), [path, latest, session.token]);
  const [revision, setRevision] = useState(latest);
  useEffect(() => setRevision(latest), [latest]);
  const past = useLoad(
    () => (revision >= latest ? Promise.resolve(undefined) : call<History>(`${path}?revision=${revision}`, { token: session.token }).then((a) => a.body)),
    [path, revision, latest, session.token],
  );
  const actor = ({ actorId, actorName, role }: HistoryEvent['metadata']) =>
    actorName ? `${actorName} (${actorId}, ${t(`role.${role}`)})` : `${actorId} (${t(`role.${role}`)})`;
  const events = history.data?.events ?? [];
  const first = events[0]?.revision ?? 0;
  const at = events.find((e) => e.revision === revision)?.metadata.at;

  return (
    <section className="panel timeline" aria-labelledby={`${sliderId}-title`}>
      <h2 id={`${sliderId}-title`}>{t('timeline.title')}</h2>
      {history.problem && <ProblemNotice problem={history.problem} />}
      <ol>
        {events.map((e) => (
          <li key={e.revision} className={e.revision > revision ? 'later' : e.revision === revision ? 'current' : ''} data-revision={e.revision}>
            <span className="rev">{e.revision}</span>
            <div>
              <strong>{t(`event.${e.type}`)}</strong>
              {typeof e.data.amount === 'number' && ` — ${formatVnd(e.data.amount)}`}
              {typeof e.data.approvedAmount === 'number' && ` — ${formatVnd(e.data.approvedAmount)}`}
              <div className="muted">
                {formatDateTime(e.metadata.at)} · {t('timeline.by')} {actor(e.metadata)}
              </div>
            </div>
          </li>
        ))}
      </ol>
      {events.length > 1 && (
        <div className="field">
          <label htmlFor={sliderId}>
            {t('timeline.slider')}: <output htmlFor={sliderId}>{revision === latest ? `${revision} (${t('timeline.latest')})` : revision}</output>
          </label>
          <input
            id={sliderId}
            type="range"
            min={first}
            max={latest}
            step={1}
            value={revision}
            aria-valuetext={`${revision}: ${t(`event.${events.find((e) => e.revision === revision)?.type ?? ''}`)}`}
            onChange={(e) => setRevision(Number(e.target.value))}
          />
        </div>
      )}
      {revision < latest && (
        <div className="as-of" data-revision={revision}>
          <h3>{t('timeline.asOf', { n: revision, at: formatDateTime(at) })}</h3>
          {past.problem && <ProblemNotice problem={past.problem} />}
          {past.data?.state && (
            <>
              <p className="status-line">
                <span className={`status ${past.data.state.status}`}>{t(`status.${past.data.state.status}`)}</span>
                <span className={`badge ${past.data.state.paymentStatus}`}>{t(`payment.${past.data.state.paymentStatus}`)}</span>
              </p>
              <dl className="amounts">
                <dt>{t('app.approved')}</dt>
                <dd>{formatVnd(past.data.state.approvedAmount)}</dd>
                <dt>{t('app.disbursed')}</dt>
                <dd>{formatVnd(past.data.state.disbursedAmount)}</dd>
              </dl>
            </>
          )}
        </div>
      )}
    </section>
  );
}
