/* EU-POLNET embedded forms, for any CMS page.
 *
 *   <div data-eupolnet-event="SLUG" data-lang="fr"></div>          registration for an event
 *   <div data-eupolnet-publication="SLUG" data-lang="fr"></div>    order form of a publication
 *   <noscript><a href="{REGISTRATION_URL}/events/SLUG/register?lang=fr">…</a></noscript>
 *   <noscript><a href="{ORDERS_URL}/publications/SLUG/order?lang=fr">…</a></noscript>
 *                                                                  the same forms without script
 *   <div data-eupolnet-events="KIND" data-lang="fr"></div>         a kind's upcoming events, each
 *                                                                  with a button opening its form
 *   <script src="{REGISTRATION_URL}/embed.js" defer></script>
 *
 * Each element gets its form in a shadow root, so the page's CSS and ours leave each other
 * alone; the page themes the form with CSS custom properties (--eupolnet-accent,
 * --eupolnet-accent-text, --eupolnet-font, --eupolnet-font-size, --eupolnet-text,
 * --eupolnet-background, --eupolnet-border, --eupolnet-error, --eupolnet-focus,
 * --eupolnet-radius, --eupolnet-max-width). Submissions are JSON sent with fetch and no
 * cookies; the services accept them only from the origins they list (CORS; a page elsewhere
 * gets a console error naming EMBED_ALLOWED_ORIGINS). The script adds
 * no inline script or style to the page (its CSS is a constructed stylesheet), so it works
 * under a strict Content-Security-Policy (README, "Embedding the forms").
 *
 * Optional attributes:
 *   data-orders-url          where the orders service is, for publications;
 *   data-mode="button"       a button that opens the form in a dialog, instead of the form;
 *   data-mode="group"        an event's group form: a contact registers several participants
 *                            in one submission (the single form's link switches to it too);
 *   data-button-text         that button's text (default: "Register" / "Order");
 *   data-prefill-FIELD       a value the form starts with (data-prefill-first-name,
 *                            data-prefill-organisation, ...); boxes are never ticked for the
 *                            person, consent least of all.
 * Integrators' JavaScript: window.eupolnetEmbedOptions = { prefill, onLoad, onSubmit,
 * onSuccess } set before this script runs applies to every form; eupolnetEmbed.mount(element,
 * options) mounts one element with its own options. Each callback also goes out as a DOM event
 * on the element (eupolnet:load, eupolnet:submit, eupolnet:success; they bubble).
 */
(() => {
  "use strict";

  /* The registration service fills this in when it serves the file (services/registration/embed.py). */
  const CONFIG = {};

  const script = document.currentScript || document.querySelector('script[src$="/embed.js"]');
  const BASE = new URL(".", script.src).href.replace(/\/$/, "");
  const SELECTOR = "[data-eupolnet-event], [data-eupolnet-publication], [data-eupolnet-events]";

  const STYLE = `
    :host { display: block; }
    .eupolnet { all: initial; display: block; box-sizing: border-box; max-width: var(--eupolnet-max-width, 40em);
      padding: 1.25em; border: 1px solid var(--eupolnet-border, #c4c4c4); border-radius: var(--eupolnet-radius, 6px);
      background: var(--eupolnet-background, #fff); color: var(--eupolnet-text, #1a1a1a);
      font-family: var(--eupolnet-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
      font-size: var(--eupolnet-font-size, 16px); line-height: 1.5; text-align: start; }
    *, *::before, *::after { box-sizing: border-box; }
    h2 { font-size: 1.4em; line-height: 1.25; margin: 0 0 .4em; font-weight: 700; }
    h3 { font-size: 1.15em; line-height: 1.3; margin: 0 0 .4em; font-weight: 700; }
    p { margin: 0 0 .75em; }
    ul { margin: 0; padding-inline-start: 1.25em; }
    .meta { color: var(--eupolnet-muted, #4a4a4a); }
    .field { margin: 0 0 1em; }
    label { display: block; font-weight: 600; margin: 0 0 .25em; }
    input, select, textarea { font: inherit; color: inherit; background: #fff; width: 100%; min-height: 2.75em; margin: 0;
      padding: .45em .6em; border: 1px solid var(--eupolnet-input-border, #6b6b6b); border-radius: 4px; }
    textarea { min-height: 5em; resize: vertical; }
    .check { display: flex; gap: .6em; align-items: flex-start; }
    .check input { flex: none; width: 1.3em; height: 1.3em; min-height: 0; margin: .1em 0 0; accent-color: var(--eupolnet-accent, #00507a); }
    .check label { font-weight: 400; margin: 0; }
    [aria-invalid="true"] { border: 2px solid var(--eupolnet-error, #b00020); }
    .req { color: var(--eupolnet-error, #b00020); }
    .error { color: var(--eupolnet-error, #b00020); font-weight: 600; margin: .25em 0 0; }
    button { font: inherit; font-weight: 600; margin: 0; padding: .65em 1.4em; border-radius: 4px; cursor: pointer;
      border: 2px solid var(--eupolnet-accent, #00507a); background: var(--eupolnet-accent, #00507a);
      color: var(--eupolnet-accent-text, #fff); }
    button[aria-disabled="true"] { opacity: .75; cursor: progress; }
    a { color: inherit; text-decoration: underline; }
    :focus-visible { outline: 3px solid var(--eupolnet-focus, #1a1a1a); outline-offset: 2px; }
    .summary { border: 3px solid var(--eupolnet-error, #b00020); padding: 1em; margin: 0 0 1.25em; }
    .summary a { color: var(--eupolnet-error, #b00020); font-weight: 600; }
    .summary:empty { border: 0; padding: 0; margin: 0; }
    .note { background: #eef2f6; padding: .6em .8em; border-radius: 4px; }
    .outcome { border-inline-start: 6px solid var(--eupolnet-success, #1e7b34); background: #f0f7f1; padding: 1em; }
    .outcome.waiting { border-color: #8a5a00; background: #fdf6e7; }
    .outcome p:last-child, .summary p:last-child { margin-bottom: 0; }
    .hp { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
    [hidden] { display: none; }
    button.secondary { background: transparent; color: var(--eupolnet-accent, #00507a); }
    fieldset { border: 1px solid var(--eupolnet-border, #c4c4c4); border-radius: 4px; margin: 0 0 1.25em; padding: .75em 1em 0; }
    legend { font-weight: 700; padding: 0 .3em; }
    dialog { padding: 0; border: 0; background: transparent; width: min(44em, 96vw); max-height: 94vh; }
    dialog::backdrop { background: rgb(0 0 0 / .55); }
    .eupolnet.launcher { padding: 0; border: 0; background: transparent; max-width: none; }
    dialog .eupolnet { position: relative; max-width: none; padding-top: 2.75em; }
    button.close { position: absolute; top: .5em; inset-inline-end: .5em; padding: .2em .6em; line-height: 1.2;
      background: transparent; color: var(--eupolnet-text, #1a1a1a); border-color: var(--eupolnet-border, #c4c4c4); }
    .events { list-style: none; padding: 0; }
    .events li { padding: 0 0 1em; margin: 0 0 1em; border-bottom: 1px solid var(--eupolnet-border, #c4c4c4); }
    .events li:last-child { border-bottom: 0; margin-bottom: 0; }
  `;

  /** One constructed stylesheet for every shadow root: not an inline <style>, which a page's
   * CSP (style-src 'self') would block. */
  let sheet = null;
  function styleSheet() {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
    }
    return sheet;
  }

  /* --- small helpers ------------------------------------------------------------------ */

  /** An element with attributes (false/null ones left out) and children. */
  function h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === false || value === null || value === undefined) continue;
      if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    put(element, ...children);
    return element;
  }

  /** Replace the children of `parent` (arrays flattened, empty entries left out). */
  function put(parent, ...children) {
    parent.replaceChildren(...children.flat(3).filter((child) => child !== null && child !== undefined && child !== false));
  }

  /** The interface texts in `language` (from the service's catalogue; English for a language it lacks). */
  function textsFor(language) {
    return CONFIG.texts[language] || CONFIG.texts.en;
  }

  function pick(texts, language) {
    return (texts && (texts[language] || texts.en || Object.values(texts)[0])) || "";
  }

  /** A label short enough for the error summary (the consent wording is a paragraph). */
  function shorten(label, length = 60) {
    return label.length <= length ? label : `${label.slice(0, label.lastIndexOf(" ", length - 1))}…`;
  }

  /** A catalogue text with its %(name)s placeholders filled in. */
  function fill(template, values) {
    return template.replace(/%\((\w+)\)[sd]/g, (_, name) => values[name] ?? "");
  }

  /** fetch() to one of the services; when the browser refuses it, `explainRefusal` says why. */
  async function call(url, init) {
    try {
      return await fetch(url, { credentials: "omit", ...init });
    } catch (error) {
      await explainRefusal(url);
      throw error;
    }
  }

  const explained = new Set();

  /** A call the browser refused (a TypeError, no answer to read) to a service that does answer
   * (a no-cors request to its /healthz goes through) means the service does not list this
   * page's origin (CORS): tell the integrator in the console, once per service, naming the
   * setting to change. Offline or with the service down, it says nothing: it is not that. */
  async function explainRefusal(url) {
    const service = url.slice(0, url.indexOf("/api/"));
    if (explained.has(service)) return;
    try {
      await fetch(`${service}/healthz`, { mode: "no-cors", credentials: "omit", cache: "no-store" });
    } catch (error) {
      return;
    }
    explained.add(service);
    console.error(`EU-POLNET embed: ${service} does not allow this page's origin (${window.location.origin}) to use its forms. `
      + `Add ${window.location.origin} to EMBED_ALLOWED_ORIGINS (comma-separated origins) in the services' environment `
      + "and restart them (README, \"Embedding the forms\").");
  }

  async function getJSON(url) {
    const response = await call(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  function postJSON(url, body) {
    return call(url, {
      method: "POST",
      mode: "cors",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  }

  /** Every country, named and sorted in `language` (Babel's names, from the service). */
  function countryChoices(language) {
    return CONFIG.countries[language] || CONFIG.countries.en;
  }

  /* --- the two kinds of form ---------------------------------------------------------
   * A kind loads what it needs and returns a form: { title, details, notes, closed (why it
   * takes nothing now, or null), closedTitle (the heading of that), fields, submitLabel, submit(values) -> Promise<Response>,
   * outcome(body, values, created) -> {title, lines, waiting} for a success,
   * refusal(status, body) -> {title, lines, keepForm} | null for a refusal worth its own words,
   * fieldOf(errorName) -> the field an error of the service is about, links: [{href, text,
   * target}] shown below the form (`target` opens that form here instead), and optionally
   * intro (a line above the fields) and more: {label, form() -> the next form, focus (the
   * name prefix of the fields to focus in it)} for a button that grows the form }.
   * A field may carry `section` (the legend of the fieldset it is in), `summaryLabel` (its
   * name in the error summary), `base` (the form's field it repeats in a block) and
   * `prefillAs` (the prefill value it takes).
   */

  async function registrationForm(slug, language, t) {
    const description = await getJSON(`${BASE}/api/v1/events/${encodeURIComponent(slug)}/form?lang=${language}`);
    const event = description.event;
    return {
      title: pick(event.title, language),
      details: [`${t.when} ${description.when}`, `${t.where} ${event.online ? t.online : event.venue || ""}`],
      notes: [event.members_only && t.members_only, description.full && t.full].filter(Boolean),
      closed: description.closed_reason,
      closedTitle: t.closed_title,
      fields: description.fields,
      submitLabel: t.submit_register,
      // several people at once: the group form here (its page without script for a new tab)
      links: [{ href: `${BASE}/events/${encodeURIComponent(slug)}/register-group?lang=${language}`, text: t.group_link,
        target: { event: slug, group: true } }],
      submit(values) {
        const data = { answers: {} };
        for (const [name, value] of Object.entries(values)) {
          if (name.startsWith("answers.")) data.answers[name.slice("answers.".length)] = value;
          else data[name] = value;
        }
        const url = description.submit_url || `${BASE}/api/v1/events/${encodeURIComponent(slug)}/registrations`;
        return postJSON(`${url}?lang=${language}`, data);
      },
      outcome(body, values, created) {
        const lines = [fill(t[body.status], { email: values.email })];
        if (!created) lines.unshift(t.already);
        return { title: t[`${body.status}_title`], lines, waiting: body.status !== "confirmed" };
      },
      /* Decided on the refusal's code; its message comes translated (?lang=). */
      refusal(status, body) {
        if (body.code === "members_only") return { title: t.refused_title, lines: [body.message], keepForm: true };
        if (["registration_closed", "registration_not_open"].includes(body.code)) {
          return { title: t.closed_title, lines: [body.message] };
        }
        return null;
      },
      fieldOf: (name) => name,
    };
  }

  /** Where the orders service is, for the publication form of `host`. */
  function ordersUrlOf(host) {
    return (host.dataset.ordersUrl || CONFIG.ordersUrl || "").replace(/\/$/, "");
  }

  /** The group form: the contact, then one block of the event's fields per participant, and
   * the consent once. "Add a participant" renders the form again with one more block. The
   * service applies the rules to each participant (POST /events/{slug}/groups). */
  async function groupForm(slug, language, t, count = 2) {
    const description = await getJSON(`${BASE}/api/v1/events/${encodeURIComponent(slug)}/form?lang=${language}`);
    const event = description.event;
    const consent = description.fields.find((field) => field.name === "consent");
    const own = description.fields.filter((field) => field.name !== "consent");
    const block = (prefix, legend, fields) => fields.map((field) => ({
      ...field, name: `${prefix}${field.name}`, base: field.name, section: legend, summaryLabel: `${legend}: ${shorten(field.label)}`,
      prefillAs: prefix === "contact." ? field.name : `${prefix}${field.name}`,
    }));
    const participants = Array.from({ length: count }, (_, index) =>
      block(`participants.${index}.`, fill(t.participant_legend, { number: index + 1 }), own));
    /** The block a field is in, when it is a participant's: `participants.2.` */
    const blockOf = (name) => (name.match(/^participants\.\d+\./) || [null])[0];
    /** A participant's block left empty is nobody (a language is always chosen). */
    const empty = (prefix, values) => !Object.entries(values)
      .some(([name, value]) => name.startsWith(prefix) && name !== `${prefix}language` && value !== false);
    let sent = []; // the blocks of the participants sent, in order: the service's index -> block
    return {
      title: pick(event.title, language),
      details: [`${t.when} ${description.when}`, `${t.where} ${event.online ? t.online : event.venue || ""}`],
      notes: [event.members_only && t.members_only, description.full && t.full].filter(Boolean),
      intro: t.leave_empty,
      closed: description.closed_reason,
      fields: [...block("contact.", t.contact_legend, own.filter((field) => CONFIG.groupContactFields.includes(field.name))),
        ...participants.flat(), consent],
      submitLabel: t.submit_group,
      more: count < CONFIG.groupMax
        ? { label: t.add_participant, form: () => groupForm(slug, language, t, count + 1), focus: `participants.${count}.` } : null,
      skipped: (name, values) => blockOf(name) !== null && empty(blockOf(name), values),
      submit(values) {
        const data = { contact: {}, participants: [], consent: values.consent === true, [CONFIG.honeypot]: values[CONFIG.honeypot] };
        const people = new Map();
        for (const [name, value] of Object.entries(values)) {
          const prefix = blockOf(name);
          if (name.startsWith("contact.")) data.contact[name.slice("contact.".length)] = value;
          if (prefix === null || empty(prefix, values)) continue;
          if (!people.has(prefix)) people.set(prefix, { answers: {} });
          const field = name.slice(prefix.length);
          if (field.startsWith("answers.")) people.get(prefix).answers[field.slice("answers.".length)] = value;
          else people.get(prefix)[field] = value;
        }
        sent = [...people.keys()];
        data.participants = [...people.values()];
        return postJSON(`${BASE}/api/v1/events/${encodeURIComponent(slug)}/groups?lang=${language}`, data);
      },
      outcome(body, values) {
        const status = CONFIG.statusTexts[language] || CONFIG.statusTexts.en;
        const lines = body.participants.map((person) => [`${person.first_name} ${person.last_name}: ${status[person.status]}`,
          person.already_registered ? ` (${t.already})` : "", person.reason ? ` – ${person.reason.message}` : ""].join(""));
        lines.push(fill(t.group_registered, { email: values["contact.email"] }));
        const waiting = body.participants.some((person) => person.status !== "confirmed");
        return { title: t.group_registered_title, lines, waiting };
      },
      refusal(status, body) {
        if (["registration_closed", "registration_not_open"].includes(body.code)) return { title: t.closed_title, lines: [body.message] };
        return null;
      },
      fieldOf: (name) => name.replace(/^participants\.(\d+)\./, (whole, index) => sent[Number(index)] || whole),
    };
  }

  async function orderForm(slug, language, t, host) {
    const ordersUrl = ordersUrlOf(host);
    const publication = await getJSON(`${ordersUrl}/api/v1/publications/${encodeURIComponent(slug)}`);
    const label = (name) => pick(CONFIG.labels[name], language);
    const field = (name, type, required, labelText, extra = {}) => ({ name, type, required, label: labelText, max_length: null, ...extra });
    return {
      title: pick(publication.title, language),
      details: [],
      notes: [],
      closed: publication.stock > 0 ? null : t.out_of_stock,
      closedTitle: t.out_of_stock_title,
      fields: [
        field("copies", "number", true, t.copies, { min: 1, max: publication.stock, value: "1" }),
        field("first_name", "text", true, label("first_name"), { max_length: 100 }),
        field("last_name", "text", true, label("last_name"), { max_length: 100 }),
        field("occupation", "text", false, t.occupation, { max_length: 200 }),
        field("organisation", "text", false, t.organisation_order, { max_length: 200 }),
        field("address", "textarea", true, t.address, { max_length: 500 }),
        field("city", "text", true, label("city"), { max_length: 100 }),
        field("postcode", "text", true, t.postcode, { max_length: 20 }),
        field("country", "country", true, label("country"), { choices: countryChoices(language) }),
        field("email", "email", true, label("email"), { max_length: 254 }),
        field("telephone", "tel", false, t.telephone, { max_length: 40 }),
        field("language", "select", false, label("language"), {
          choices: Object.entries(CONFIG.languages).map(([value, name]) => ({ value, label: name })),
        }),
      ],
      submitLabel: t.submit_order,
      submit(values) {
        const { copies, ...person } = values;
        const number = /^\d+$/.test(copies || "") ? Number(copies) : null;
        return postJSON(`${ordersUrl}/api/v1/orders?lang=${language}`, { lines: [{ publication: slug, copies: number }], ...person });
      },
      outcome(body, values) {
        const lines = [fill(t.received, { number: body.number, email: values.email })];
        if (body.total_cents === null || body.total_cents === undefined) lines.push(t.price_later);
        else if (body.total_cents === 0) lines.push(t.free);
        else {
          lines.push(fill(t.postage, { amount: body.total }));
        }
        return { title: t.received_title, lines, waiting: false };
      },
      refusal: () => null,
      fieldOf: (name) => (/^lines\.\d+\.copies$/.test(name) ? "copies" : name),
    };
  }

  /* --- rendering ------------------------------------------------------------------------ */

  function fieldId(name) {
    return `f-${name.replace(/[^\w-]/g, "-")}`;
  }

  function control(field, id, language) {
    const kind = field.base || field.name; // the form's own field a participant's block repeats
    const common = { id, name: field.name, required: field.required, autocomplete: CONFIG.autocomplete[kind] || null };
    if (field.type === "textarea") return h("textarea", { ...common, rows: 3, maxlength: field.max_length });
    if (field.type === "checkbox") return h("input", { ...common, type: "checkbox" });
    if (field.type === "select" || field.type === "country") {
      const preset = kind === "language" ? language : "";
      const choices = kind === "language" ? field.choices : [{ value: "", label: textsFor(language).choose }, ...field.choices];
      return h("select", common, choices.map((choice) => h("option", { value: choice.value, selected: choice.value === preset }, choice.label)));
    }
    const types = { email: "email", date: "date", number: "number", tel: "tel" };
    return h("input", {
      ...common,
      type: types[field.type] || "text",
      maxlength: field.max_length,
      min: field.min,
      max: field.max,
      value: field.value,
      inputmode: field.type === "number" ? "numeric" : null,
      spellcheck: field.type === "email" ? "false" : null,
    });
  }

  function renderField(field, language) {
    const id = fieldId(field.name);
    const input = control(field, id, language);
    const marker = field.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null;
    const label = h("label", { for: id }, field.label, marker);
    const error = h("p", { class: "error", id: `${id}-error`, hidden: true });
    const body = field.type === "checkbox" ? [h("div", { class: "check" }, input, label)] : [label, input];
    return { name: field.name, field, input, error, element: h("div", { class: "field" }, ...body, error) };
  }

  /** Render `form` into `box` and handle its submission; `host` gets the callbacks' events. */
  function renderForm(box, form, language, host, settings, kept = null) {
    const t = textsFor(language);
    put(box,
      h("h2", {}, form.title),
      form.details.length ? h("p", { class: "meta" }, form.details.flatMap((line, i) => (i ? [h("br"), line] : [line]))) : null,
    );
    if (form.closed) {
      box.append(h("div", { class: "outcome waiting" }, h("h3", {}, form.closedTitle), h("p", {}, form.closed)));
      return;
    }
    const rows = form.fields.map((field) => renderField(field, language));
    const byName = new Map(rows.map((row) => [row.name, row]));
    const summary = h("div", { class: "summary", role: "alert", tabindex: "-1" });
    const honeypot = h("input", { id: "f-hp", name: CONFIG.honeypot, tabindex: "-1", autocomplete: "off" });
    const button = h("button", { type: "submit" }, form.submitLabel);
    const element = h("form", { novalidate: true, onsubmit: submit },
      summary,
      form.notes.map((note) => h("p", { class: "note" }, note)),
      h("p", {}, t.required_note, form.intro ? ` ${form.intro}` : null),
      sections(rows.filter((row) => row.name !== "consent" || !form.more)),
      form.more ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: grow }, form.more.label)) : null,
      form.more ? rows.filter((row) => row.name === "consent").map((row) => row.element) : null,
      h("div", { class: "hp", "aria-hidden": "true" }, h("label", { for: "f-hp" }, t.website), honeypot),
      button,
    );
    box.append(element, ...(form.links || []).map((link) => h("p", { class: "more" }, h("a", {
      href: link.href, target: "_blank", rel: "noopener",
      onclick: link.target ? (e) => { e.preventDefault(); loadForm(box, link.target, language, host, settings); } : null,
    }, link.text))));
    if (kept) restore(rows, kept);
    else prefill(rows, settings.prefill);
    let busy = false;

    /** "Add a participant": the next form, with everything typed so far, focused on the new block. */
    async function grow() {
      const next = await form.more.form();
      renderForm(box, next, language, host, settings, values());
      const first = [...box.querySelectorAll("input, select, textarea")]
        .find((input) => input.name.startsWith(form.more.focus));
      if (first) first.focus();
    }

    function values() {
      const result = { [CONFIG.honeypot]: honeypot.value };
      for (const row of rows) {
        const value = row.input.type === "checkbox" ? row.input.checked : row.input.value.trim();
        if (value !== "") result[row.name] = value;
      }
      return result;
    }

    /** Required fields left empty. The service checks the extra answers only once the
     * standard fields are right: naming them now spares the person a second round. */
    function missing(submitted) {
      const empty = rows.filter((row) => row.field.required && [undefined, false].includes(submitted[row.name])
        && !(form.skipped && form.skipped(row.name, submitted)));
      return Object.fromEntries(empty.map((row) => [row.name, [t.required_error]]));
    }

    function clearErrors() {
      put(summary);
      for (const row of rows) {
        row.input.removeAttribute("aria-invalid");
        row.input.removeAttribute("aria-describedby");
        row.error.hidden = true;
        row.error.textContent = "";
      }
    }

    /** Errors next to their fields, listed in the summary; focus on the first faulty field. */
    function showErrors(errors, title, lines = []) {
      const general = [];
      const faulty = [];
      for (const [name, messages] of Object.entries(errors)) {
        const text = messages.join(" ");
        const row = byName.get(form.fieldOf(name));
        if (!row) {
          general.push(h("li", {}, text));
          continue;
        }
        row.input.setAttribute("aria-invalid", "true");
        row.input.setAttribute("aria-describedby", row.error.id);
        row.error.textContent = text;
        row.error.hidden = false;
        faulty.push(row);
      }
      faulty.sort((a, b) => rows.indexOf(a) - rows.indexOf(b));
      const links = faulty.map((row) => {
        const focus = (e) => { e.preventDefault(); row.input.focus(); };
        const text = fill(t.field_error, { label: row.field.summaryLabel || shorten(row.field.label), message: row.error.textContent });
        return h("li", {}, h("a", { href: `#${row.input.id}`, onclick: focus }, text));
      });
      const items = [...general, ...links];
      put(summary,
        h("h3", {}, title || t.error_title),
        lines.map((line) => h("p", {}, line)),
        items.length ? [h("p", {}, t.errors_intro), h("ul", {}, items)] : null,
      );
      (faulty.length ? faulty[0].input : summary).focus();
    }

    function showOutcome(outcome) {
      const panel = h("div", { class: `outcome${outcome.waiting ? " waiting" : ""}`, role: "status", tabindex: "-1" },
        h("h3", {}, outcome.title), outcome.lines.map((line) => h("p", {}, line)));
      element.replaceWith(panel);
      panel.focus();
    }

    async function submit(event) {
      event.preventDefault();
      if (busy) return;
      busy = true;
      button.setAttribute("aria-disabled", "true");
      button.textContent = t.sending;
      const submitted = values();
      const { [CONFIG.honeypot]: _, ...person } = submitted;
      notify(host, settings, "submit", { values: person });
      let response = null;
      let body = {};
      try {
        response = await form.submit(submitted);
        body = await response.json().catch(() => ({}));
      } catch (error) {
        response = null;
      } finally {
        busy = false;
        button.removeAttribute("aria-disabled");
        button.textContent = form.submitLabel;
      }
      clearErrors();
      if (response === null || response.status >= 500) return showErrors({}, null, [t.failed]);
      if (response.ok) {
        notify(host, settings, "success", { status: body.status || null, created: response.status === 201, result: body });
        return showOutcome(form.outcome(body, submitted, response.status === 201));
      }
      if (response.status === 429) return showErrors({}, null, [t.too_many]);
      const refusal = form.refusal(response.status, body);
      if (refusal && !refusal.keepForm) return showOutcome({ ...refusal, waiting: true });
      const errors = body.errors && Object.keys(body.errors).length ? body.errors : { body: [body.message || t.failed] };
      showErrors({ ...missing(submitted), ...errors }, refusal && refusal.title, refusal ? refusal.lines : []);
    }
  }

  /** The rows' elements, those of one `section` in a fieldset with it as legend. */
  function sections(rows) {
    const out = [];
    for (const row of rows) {
      const last = out[out.length - 1];
      if (!row.field.section) out.push(row.element);
      else if (last && last.section === row.field.section) last.element.append(row.element);
      else out.push({ section: row.field.section, element: h("fieldset", {}, h("legend", {}, row.field.section), row.element) });
    }
    return out.map((item) => item.element || item);
  }

  function renderUnavailable(box, language, t, fallback) {
    put(box, h("p", { role: "status" }, t.unavailable, " ", fallback ? h("a", { href: fallback }, t.unavailable_link) : null));
  }

  /** Put the page's values into the fields, except boxes: ticking them is the person's act. */
  function prefill(rows, values) {
    for (const row of rows) {
      const value = values[row.field.prefillAs || row.name];
      if (value === undefined || value === null || row.input.type === "checkbox") continue;
      row.input.value = String(value);
    }
  }

  /** Put back what the person typed (and ticked) into the fields of a form drawn again. */
  function restore(rows, values) {
    for (const row of rows) {
      if (row.input.type === "checkbox") row.input.checked = values[row.name] === true;
      else if (values[row.name] !== undefined) row.input.value = values[row.name];
    }
  }

  /** Tell the page: its callback (onLoad, onSubmit, onSuccess) and a DOM event on the element. */
  function notify(host, settings, name, detail) {
    host.dispatchEvent(new CustomEvent(`eupolnet:${name}`, { bubbles: true, composed: true, detail }));
    const callback = settings[`on${name[0].toUpperCase()}${name.slice(1)}`];
    if (typeof callback !== "function") return;
    try {
      callback(detail, host);
    } catch (error) {
      console.error(error);
    }
  }

  /** The element's options: the page's global ones, then mount()'s, then data-prefill-* attributes. */
  function settingsFor(host, options) {
    const global = window.eupolnetEmbedOptions || {};
    const fromAttributes = {};
    for (const attribute of host.attributes) {
      if (attribute.name.startsWith("data-prefill-")) {
        fromAttributes[attribute.name.slice("data-prefill-".length).replace(/-/g, "_")] = attribute.value;
      }
    }
    return { ...global, ...options, prefill: { ...global.prefill, ...options.prefill, ...fromAttributes } };
  }

  /** Load the form of `target` ({event} or {publication}) into `box`. */
  async function loadForm(box, target, language, host, settings) {
    const t = textsFor(language);
    box.setAttribute("aria-busy", "true");
    put(box, h("p", { role: "status" }, t.loading));
    try {
      const form = target.group ? await groupForm(target.event, language, t)
        : target.event ? await registrationForm(target.event, language, t)
          : await orderForm(target.publication, language, t, host);
      renderForm(box, form, language, host, settings);
      notify(host, settings, "load", { event: target.event || null, publication: target.publication || null, title: form.title });
    } catch (error) {
      // the same form on the service's own page, which needs no script
      const fallback = target.event
        ? `${BASE}/events/${encodeURIComponent(target.event)}/${target.group ? "register-group" : "register"}?lang=${language}`
        : `${ordersUrlOf(host)}/publications/${encodeURIComponent(target.publication)}/order?lang=${language}`;
      renderUnavailable(box, language, t, fallback);
    } finally {
      box.removeAttribute("aria-busy");
    }
  }

  /** A button that opens the form of `target` in a modal dialog (loaded when first opened).
   * The dialog has a shadow root of its own, so the ids of several forms never meet. */
  function formButton(target, language, host, settings, text) {
    const t = textsFor(language);
    const holder = h("div");
    const root = holder.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [styleSheet()];
    const box = h("div", { class: "eupolnet", lang: language });
    const dialog = h("dialog", { "aria-label": text }, box);
    const close = h("button", { type: "button", class: "close", "aria-label": t.close, onclick: () => dialog.close() }, "×");
    let loaded = false;
    const open = async () => {
      dialog.showModal();
      if (loaded) return;
      loaded = true;
      await loadForm(box, target, language, host, settings);
      box.prepend(close);
      const title = box.querySelector("h2");
      if (title) {
        title.id = `t-${Math.random().toString(36).slice(2)}`;
        dialog.removeAttribute("aria-label");
        dialog.setAttribute("aria-labelledby", title.id);
      }
    };
    root.append(dialog);
    return [h("button", { type: "button", "aria-haspopup": "dialog", onclick: open }, text), holder];
  }

  /** The upcoming events of a kind, each with a button opening its registration form. */
  async function renderEvents(box, kind, language, host, settings) {
    const t = textsFor(language);
    box.setAttribute("aria-busy", "true");
    put(box, h("p", { role: "status" }, t.loading));
    try {
      const events = await getJSON(`${BASE}/api/v1/events?kind=${encodeURIComponent(kind)}&lang=${language}`);
      const dates = (event) => new Intl.DateTimeFormat(language, {
        day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: event.timezone, timeZoneName: "short",
      })
        .formatRange(new Date(event.starts_at), new Date(event.ends_at));
      put(box, events.length
        ? h("ul", { class: "events" }, events.map((event) => h("li", {},
          h("h3", {}, pick(event.title, language)),
          h("p", { class: "meta" }, `${t.when} ${dates(event)}`, h("br"), `${t.where} ${event.online ? t.online : event.venue || ""}`),
          formButton({ event: event.slug }, language, host, settings, t.register),
        )))
        : h("p", {}, t.no_events));
    } catch (error) {
      put(box, h("p", { role: "status" }, t.events_unavailable));
    } finally {
      box.removeAttribute("aria-busy");
    }
  }

  /** Mount one element of the page, with `options` ({prefill, onLoad, onSubmit, onSuccess}). */
  function mount(host, options = {}) {
    const language = (host.dataset.lang || document.documentElement.lang || "en").slice(0, 2).toLowerCase();
    const t = textsFor(language);
    const settings = settingsFor(host, options);
    const root = host.shadowRoot || host.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [styleSheet()];
    const box = h("div", { class: "eupolnet", lang: language });
    root.replaceChildren(box);
    if (host.dataset.eupolnetEvents !== undefined) return renderEvents(box, host.dataset.eupolnetEvents, language, host, settings);
    const target = host.dataset.eupolnetEvent
      ? { event: host.dataset.eupolnetEvent, group: host.dataset.mode === "group" }
      : { publication: host.dataset.eupolnetPublication };
    if (host.dataset.mode === "button") {
      const text = host.dataset.buttonText || (target.event ? t.register : t.order);
      box.classList.add("launcher");
      put(box, formButton(target, language, host, settings, text));
      return Promise.resolve();
    }
    return loadForm(box, target, language, host, settings);
  }

  /** Mount every form element of the page that has none yet (pages that add some later may call it). */
  function start() {
    for (const host of document.querySelectorAll(SELECTOR)) {
      if (!host.shadowRoot) mount(host);
    }
  }

  window.eupolnetEmbed = { start, mount };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
