import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { Problem, type FieldError } from './api';
import { formatVnd, parseVnd } from './format';
import { useI18n } from './i18n';
import { belongsTo, buildBody, type FieldSpec, type Values } from './form-model';

export { CATEGORIES, INDICATORS, type FieldSpec, type Values } from './form-model';

interface CommandFormProps {
  title: string;
  fields: readonly FieldSpec[];
  initial?: Values;
  submitLabel?: string;
  /** Sends the body; throws a Problem when the API refuses. */
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
  /** Offered with a 409/412: the page is stale. */
  onReload?: () => void;
}

/** A labelled, keyboard-usable form for one command, with the API's refusals next to the inputs. */
export function CommandForm({ title, fields, initial = {}, submitLabel, onSubmit, onReload }: CommandFormProps) {
  const id = useId();
  const [values, setValues] = useState<Values>(initial);
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const errors = problem?.status === 400 ? problem.errors : [];
  const unmatched = errors.filter((e) => !fields.some((f) => belongsTo(e, f.name)));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    try {
      await onSubmit(buildBody(fields, values));
      setProblem(undefined);
    } catch (error) {
      setProblem(error instanceof Problem ? error : new Problem(0, 'Error', String(error)));
    } finally {
      setBusy(false);
    }
  }

  const set = (key: string, value: string | boolean) => setValues((v) => ({ ...v, [key]: value }));
  return (
    <form className="command" noValidate onSubmit={submit} aria-label={title}>
      {fields.map((field) => (
        <FieldInput
          key={field.name}
          id={`${id}-${field.name}`}
          field={field}
          values={values}
          set={set}
          errors={errors.filter((e) => belongsTo(e, field.name))}
        />
      ))}
      {problem && <ProblemNotice problem={problem} unmatched={unmatched} onReload={onReload} />}
      <button type="submit" disabled={busy}>
        {submitLabel ?? title}
      </button>
    </form>
  );
}

function FieldInput({ id, field, values, set, errors }: { id: string; field: FieldSpec; values: Values; set: (key: string, value: string | boolean) => void; errors: FieldError[] }) {
  const { t } = useI18n();
  const label = t(`field.${field.name}`);
  const errorId = `${id}-errors`;
  const invalid = errors.length > 0;
  const text = (key: string) => String(values[key] ?? '');
  const common = { id, name: field.name, 'aria-invalid': invalid, 'aria-describedby': invalid ? errorId : undefined };
  const messages = invalid && (
    <ul className="field-errors" id={errorId} role="alert">
      {errors.map((e, i) => (
        <li key={i}>{e.message}</li>
      ))}
    </ul>
  );
  const optional = field.optional && <span className="muted"> {t('common.optional')}</span>;

  if (field.kind === 'checkbox') {
    return (
      <div className="field checkbox">
        <input type="checkbox" {...common} checked={values[field.name] === true} onChange={(e) => set(field.name, e.target.checked)} />
        <label htmlFor={id}>{label}</label>
        {messages}
      </div>
    );
  }
  if (field.kind === 'map' || field.kind === 'ranges') {
    return (
      <fieldset className="field map" aria-invalid={invalid} aria-describedby={invalid ? errorId : undefined}>
        <legend>
          {label}
          {optional}
        </legend>
        {field.keys.map((key) => (
          <div className="map-row" key={key}>
            <label htmlFor={`${id}-${key}`}>{t(`${field.labels}.${key}`)}</label>
            {field.kind === 'map' ? (
              <input id={`${id}-${key}`} inputMode="numeric" value={text(`${field.name}.${key}`)} onChange={(e) => set(`${field.name}.${key}`, e.target.value)} />
            ) : (
              <span className="range">
                {(['min', 'max'] as const).map((end) => (
                  <input
                    key={end}
                    id={end === 'min' ? `${id}-${key}` : undefined}
                    aria-label={`${t(`${field.labels}.${key}`)} — ${t(`field.${end}`)}`}
                    placeholder={t(`field.${end}`)}
                    inputMode="numeric"
                    value={text(`${field.name}.${key}.${end}`)}
                    onChange={(e) => set(`${field.name}.${key}.${end}`, e.target.value)}
                  />
                ))}
              </span>
            )}
          </div>
        ))}
        {messages}
      </fieldset>
    );
  }
  let input: ReactNode;
  if (field.kind === 'select') {
    input = (
      <select {...common} value={text(field.name)} onChange={(e) => set(field.name, e.target.value)}>
        <option value="">—</option>
        {field.options.map((option) => (
          <option key={option} value={option}>
            {t(`${field.labels}.${option}`)}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === 'textarea') {
    input = <textarea {...common} rows={3} value={text(field.name)} onChange={(e) => set(field.name, e.target.value)} />;
  } else {
    const numeric = field.kind === 'vnd' || field.kind === 'int';
    input = (
      <input
        {...common}
        type="text"
        inputMode={numeric ? 'numeric' : undefined}
        placeholder={field.kind === 'date' ? 'dd/mm/yyyy' : undefined}
        value={text(field.name)}
        onChange={(e) => set(field.name, e.target.value)}
      />
    );
  }
  const amount = field.kind === 'vnd' ? parseVnd(text(field.name)) : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {optional}
      </label>
      {input}
      {typeof amount === 'number' && <span className="hint">= {formatVnd(amount)}</span>}
      {messages}
    </div>
  );
}

/** What went wrong, in the words of the API; a 409/412 says someone acted first and offers a reload. */
export function ProblemNotice({ problem, unmatched = [], onReload }: { problem: Problem; unmatched?: readonly FieldError[]; onReload?: () => void }) {
  const { t } = useI18n();
  if (problem.status === 400 && problem.errors.length > 0) {
    return (
      <div className="notice error" role="alert">
        <p>{t('problem.fields')}</p>
        {unmatched.length > 0 && (
          <ul>
            {unmatched.map((e, i) => (
              <li key={i}>
                {e.field}: {e.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }
  return (
    <div className={`notice ${problem.isConflict ? 'conflict' : 'error'}`} role="alert" data-status={problem.status}>
      {problem.isConflict && <p className="strong">{t('problem.conflict')}</p>}
      <p>
        {problem.status === 0 ? t('problem.network') : `${problem.status} — ${problem.title}`}
        {problem.detail && problem.detail !== problem.title ? `: ${problem.detail}` : ''}
      </p>
      {problem.isConflict && onReload && (
        <button type="button" onClick={onReload}>
          {t('common.reload')}
        </button>
      )}
    </div>
  );
}
