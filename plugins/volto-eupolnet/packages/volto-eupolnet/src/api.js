/* How the blocks show what the EU-POLNET services give: texts in a language, dates. */

export const KINDS = ['webconference', 'academy', 'assembly', 'conference'];

/** The text in `lang`, else English, else French, else any language given, else `fallback`. */
export function pickText(texts, lang, fallback = '') {
  const all = texts || {};
  return (
    all[lang] ||
    all.en ||
    all.fr ||
    Object.values(all).find((text) => text) ||
    fallback
  );
}

/** The two-letter language of the forms: the editor's choice, else the page's, else the site's. */
export function formLanguage(choice, pageLanguage, settings) {
  const languages = settings?.languages || [];
  for (const candidate of [choice, pageLanguage, settings?.default_language]) {
    const lang = (candidate || '').slice(0, 2).toLowerCase();
    if (languages.includes(lang)) return lang;
  }
  return 'en';
}

/** `12 June 2026` or `12 June 2026 – 14 June 2026`, in the event's own time zone. */
export function eventDates(event, lang) {
  const format = (iso) => {
    const options = { day: 'numeric', month: 'long', year: 'numeric' };
    try {
      return new Intl.DateTimeFormat(lang, {
        ...options,
        timeZone: event.timezone || 'UTC',
      }).format(new Date(iso));
    } catch (error) {
      // An unknown time zone: the date as the service wrote it (its local time).
      return iso.slice(0, 10);
    }
  };
  const start = format(event.starts_at);
  const end = format(event.ends_at);
  return start === end ? start : `${start} – ${end}`;
}
