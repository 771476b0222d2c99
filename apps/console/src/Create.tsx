import { call, type Session } from './api';
import { OPEN_PROGRAMME, SUBMIT_APPLICATION } from './commands';
import { CommandForm } from './forms';
import { useI18n } from './i18n';
import { navigate, rememberProgramme } from './nav';

/** POST /applications: an applicant's new application; its page opens once it is recorded. */
export function NewApplication({ session, programmeId }: { session: Session; programmeId: string }) {
  const { t } = useI18n();
  return (
    <main className="narrow">
      <h1>{t('new.application')}</h1>
      <CommandForm
        title={t('new.application')}
        submitLabel={t('new.submit')}
        fields={SUBMIT_APPLICATION}
        initial={{ programmeId }}
        onSubmit={async (body) => {
          const { body: answer } = await call<{ id: string }>('/applications', { method: 'POST', body, token: session.token });
          navigate(`applications/${answer.id}`);
        }}
      />
    </main>
  );
}

/** POST /programmes: a plan year with its budget per category and its targets. */
export function NewProgramme({ session }: { session: Session }) {
  const { t } = useI18n();
  return (
    <main className="narrow">
      <h1>{t('new.programme')}</h1>
      <CommandForm
        title={t('new.programme')}
        submitLabel={t('new.submit')}
        fields={OPEN_PROGRAMME}
        initial={{ year: String(new Date().getFullYear()), fundingSource: 'city' }}
        onSubmit={async (body) => {
          await call('/programmes', { method: 'POST', body, token: session.token });
          const id = encodeURIComponent(String(body.id));
          rememberProgramme(String(body.id));
          // The budget is a read model: give it a moment to show the new programme.
          for (let attempt = 0; attempt < 20; attempt++) {
            const ready = await call(`/programmes/${id}/budget`, { token: session.token }).then(() => true, () => false);
            if (ready) break;
            await new Promise((resolve) => setTimeout(resolve, 150));
          }
          navigate(`budget?programmeId=${id}`);
        }}
      />
    </main>
  );
}
