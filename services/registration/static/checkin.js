/* The check-in page at the door (templates/backoffice/checkin.html, backoffice/checkin.py).
 *
 * Scans tickets with the camera (the browser's BarcodeDetector where it has one, else jsQR,
 * served with this file) or finds people by name. It works offline for a while: the list
 * of everyone the door may meet is kept in localStorage when the page opens (and every
 * minute while online), a scan is decided on that list at once, and check-ins wait in a
 * queue (localStorage too) until the network is back. The server decides in the end: two
 * phones checking in the same person count them once, and the later one is told so.
 */
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("checkin-config").textContent);
  const t = config.texts;
  const csrf = document.querySelector("#checkin-form [name=csrf_token]").value;
  const storeKey = `eupolnet-checkin:${config.urls.event}`;
  const REFRESH_MS = 60_000;
  const RETRY_MS = 5_000;
  const SAME_CODE_MS = 4_000;

  const elements = {
    counts: document.getElementById("counts"), network: document.getElementById("network"),
    result: document.getElementById("result"), toggle: document.getElementById("camera-toggle"),
    video: document.getElementById("camera"), search: document.getElementById("search"), matches: document.getElementById("matches"),
    notOpen: document.getElementById("not-open"), override: document.getElementById("override"),
  };

  /* --- what this phone knows: the people, and the check-ins not sent yet ----------------- */

  const saved = JSON.parse(localStorage.getItem(storeKey) || "{}");
  let people = new Map((saved.people || []).map((person) => [person.ticket_id, person]));
  let queue = saved.queue || [];

  function save() {
    localStorage.setItem(storeKey, JSON.stringify({ people: [...people.values()], queue }));
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  }

  function showCounts() {
    const all = [...people.values()];
    const checked = all.filter((person) => person.status === "attended").length;
    const expected = checked + all.filter((person) => person.status === "confirmed").length;
    elements.counts.textContent = fill(t.count, { checked, expected });
    elements.network.hidden = navigator.onLine && queue.length === 0;
    elements.network.textContent = queue.length ? fill(t.queued, { count: queue.length }) : t.offline;
  }

  async function refresh() {
    try {
      const response = await fetch(config.urls.list, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = await response.json();
      const waiting = new Set(queue.map((item) => item.ticket_id));
      people = new Map(fresh.map((person) => [person.ticket_id, waiting.has(person.ticket_id) ? people.get(person.ticket_id) || person : person]));
      save();
    } catch (error) {
      /* offline: keep what we have */
    }
    showCounts();
    search();
  }

  /* --- deciding and showing ------------------------------------------------------------- */

  function time(iso) {
    return new Date(iso).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  }

  function show(admitted, title, person, detail) {
    elements.result.className = `result ${admitted ? "admitted" : "refused"}`;
    const lines = [Object.assign(document.createElement("p"), { className: "result-title", textContent: title })];
    if (person) {
      lines.push(Object.assign(document.createElement("p"), { className: "result-name", textContent: `${person.first_name} ${person.last_name}` }));
      lines.push(Object.assign(document.createElement("p"), { className: "result-detail", textContent: [person.organisation, config.statuses[person.status]].filter(Boolean).join(" · ") }));
    }
    if (detail) lines.push(Object.assign(document.createElement("p"), { className: "result-detail", textContent: detail }));
    elements.result.replaceChildren(...lines);
    if (navigator.vibrate) navigator.vibrate(admitted ? 80 : [200, 100, 200]);
  }

  /** Decide on this phone's list, show it, and send it (or queue it). */
  function admit(person, item) {
    if (!person) return show(false, t.refused, null, t.unknown);
    if (person.status === "attended") return show(false, t.refused, person, fill(t.already, { time: time(person.checked_in_at) }));
    if (person.status !== "confirmed") return show(false, t.refused, person, t[person.status]);
    /* Before the event's day only when staff tick the override (the server checks it too). */
    if (elements.override && !elements.override.checked) return show(false, t.refused, person, elements.notOpen.textContent);
    if (elements.override) item = { ...item, override: "1" };
    person.status = "attended";
    person.checked_in_at = new Date().toISOString();
    show(true, t.checked_in, person, null);
    queue.push({ ...item, ticket_id: person.ticket_id });
    save();
    showCounts();
    search();
    send();
  }

  function scanned(code) {
    const ticketId = code.split(".")[0];
    admit(people.get(ticketId), { ticket: code });
  }

  /* --- sending ------------------------------------------------------------------------- */

  let sending = false;

  async function send() {
    if (sending) return;
    sending = true;
    try {
      while (queue.length) {
        const item = queue[0];
        const body = new URLSearchParams({ csrf_token: csrf, ...(item.ticket ? { ticket: item.ticket } : { number: String(item.number) }),
          ...(item.override ? { override: item.override } : {}) });
        let response;
        try {
          response = await fetch(config.urls.post, { method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" } });
        } catch (error) {
          break; /* offline: try again later */
        }
        if (response.status >= 500 || response.status === 429) break;
        const answer = await response.json().catch(() => ({}));
        queue.shift();
        const person = answer.attendee || (response.ok ? answer : null);
        if (person && person.ticket_id) people.set(person.ticket_id, person);
        /* Refused in the end (cancelled meanwhile, or a forged code): say so. Already
         * checked in means another phone was first: counted once, nothing to tell. */
        if (!response.ok && answer.code !== "already_checked_in") show(false, t.refused, person, answer.message);
        save();
      }
    } finally {
      sending = false;
      showCounts();
    }
  }

  /* --- search by name ------------------------------------------------------------------ */

  function search() {
    const words = elements.search.value.trim().toLocaleLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return elements.matches.replaceChildren();
    const found = [...people.values()].filter((person) => {
      const text = `${person.first_name} ${person.last_name} ${person.organisation || ""}`.toLocaleLowerCase();
      return words.every((word) => text.includes(word));
    }).slice(0, 20);
    if (!found.length) return elements.matches.replaceChildren(Object.assign(document.createElement("li"), { textContent: t.no_match }));
    elements.matches.replaceChildren(...found.map((person) => {
      const who = Object.assign(document.createElement("span"), { className: "who",
        textContent: `${person.first_name} ${person.last_name}${person.organisation ? ` – ${person.organisation}` : ""} (${config.statuses[person.status]})` });
      const item = document.createElement("li");
      item.append(who);
      if (person.status === "confirmed") {
        const button = Object.assign(document.createElement("button"), { type: "button", className: "big", textContent: t.check_in });
        button.setAttribute("aria-label", `${t.check_in} ${person.first_name} ${person.last_name}`);
        button.addEventListener("click", () => admit(person, { number: person.number }));
        item.append(button);
      }
      return item;
    }));
  }

  /* --- the camera ---------------------------------------------------------------------- */

  let stream = null;
  let lastCode = null;
  let lastAt = 0;

  async function detector() {
    if ("BarcodeDetector" in window) {
      const formats = await window.BarcodeDetector.getSupportedFormats().catch(() => []);
      if (formats.includes("qr_code")) {
        const native = new window.BarcodeDetector({ formats: ["qr_code"] });
        return async (video) => (await native.detect(video))[0]?.rawValue || null;
      }
    }
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async (video) => {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      return window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" })?.data || null;
    };
  }

  async function startCamera() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (error) {
      return show(false, t.no_camera, null, null);
    }
    elements.video.srcObject = stream;
    elements.video.hidden = false;
    await elements.video.play();
    elements.toggle.textContent = t.stop;
    const detect = await detector();
    const tick = async () => {
      if (!stream) return;
      if (elements.video.readyState >= 2) {
        const code = await detect(elements.video).catch(() => null);
        const now = Date.now();
        if (code && (code !== lastCode || now - lastAt > SAME_CODE_MS)) {
          lastCode = code;
          lastAt = now;
          scanned(code);
        } else if (code) {
          lastAt = now;
        }
      }
      setTimeout(tick, 150);
    };
    tick();
  }

  function stopCamera() {
    for (const track of stream ? stream.getTracks() : []) track.stop();
    stream = null;
    elements.video.hidden = true;
    elements.toggle.textContent = t.start;
  }

  elements.toggle.addEventListener("click", () => (stream ? stopCamera() : startCamera()));
  elements.search.addEventListener("input", search);
  window.addEventListener("online", () => { send(); refresh(); });
  window.addEventListener("offline", showCounts);
  setInterval(() => { if (navigator.onLine) send(); }, RETRY_MS);
  setInterval(refresh, REFRESH_MS);
  /* A hand scanner types the code like a keyboard, then Enter, into the search field. */
  elements.search.addEventListener("keydown", (event) => {
    const code = elements.search.value.trim();
    if (event.key !== "Enter" || !/^[0-9a-f]{32}\./.test(code)) return;
    event.preventDefault();
    elements.search.value = "";
    search();
    scanned(code);
  });

  showCounts();
  refresh().then(send);
})();
