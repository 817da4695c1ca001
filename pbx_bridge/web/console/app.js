// The 112 console: one page, three views (call taker, wallboard, agency), chosen by the role.
import { api, ApiError, openEvents, setToken, token, whenUnauthorized } from "./api.js";
import { barChart } from "./charts.js";
import { applyStatic, language, setLanguage, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 5000;
const VIEWS = ["login", "taker", "wallboard", "agency"];

const state = {
  me: null,
  view: "login",
  agencies: { names: {}, routes: {} },
  events: null,
  timer: null,
  pending: null,
  call: null, // the call on the pop: its detail from GET /api/calls/{id}
  incident: null, // the incident the popped call is on
  callEvent: null, // the last call.connected for this call taker
  dismissed: new Set(),
  selectedHandoff: null,
};

// --- small helpers

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child != null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function locale() {
  return language() === "id" ? "id-ID" : "en-GB";
}

function time(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function dateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(locale(), { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" });
}

function num(value, digits = 0) {
  if (value == null) return "—";
  return Number(value).toLocaleString(locale(), { maximumFractionDigits: digits });
}

function toast(message, kind = "ok") {
  const box = $("toast");
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

function failure(error) {
  if (error instanceof ApiError) {
    if (error.status === 401) return; // the login screen says it
    if (error.status === 403) return toast(t("error.forbidden"), "error");
    if (error.status === 0) return toast(t("error.network"), "error");
    return toast(`${t("error.generic")}: ${error.message}`, "error");
  }
  toast(String(error), "error");
}

function agencyName(id) {
  return state.agencies.names[id] || id;
}

// --- signing in and out

function showView(name) {
  state.view = name;
  for (const view of VIEWS) $(`view-${view}`).hidden = view !== name;
  for (const button of document.querySelectorAll("#nav button")) {
    button.classList.toggle("active", button.dataset.view === name);
  }
  refresh();
}

function showLogin(message = "") {
  stop();
  state.me = null;
  $("nav").hidden = true;
  $("sign-out").hidden = true;
  $("live").hidden = true;
  $("who").textContent = "";
  const error = $("login-error");
  error.textContent = message;
  error.hidden = !message;
  showView("login");
  $("token").focus();
}

function stop() {
  state.events?.close();
  state.events = null;
  clearInterval(state.timer);
  state.timer = null;
  setLive(false);
}

function setLive(on) {
  $("live").dataset.state = on ? "on" : "off";
  $("live-text").textContent = t(on ? "live.on" : "live.off");
}

async function start() {
  let me;
  try {
    me = await api("/api/me");
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) {
      showLogin(`${t("error.generic")}: ${error.message}`);
    }
    return;
  }
  state.me = me;
  $("who").textContent = `${me.name} · ${t(`role.${me.role}`)}${me.agency ? ` · ${me.agency}` : ""}`;
  $("sign-out").hidden = false;
  $("live").hidden = false;
  $("nav").hidden = !["supervisor", "admin"].includes(me.role);
  try {
    const directory = await api("/api/agencies");
    state.agencies.names = Object.fromEntries(directory.agencies.map((a) => [a.id, a.name]));
    state.agencies.routes = Object.fromEntries(directory.routes.map((r) => [r.category, r]));
    fillCategories();
  } catch (error) {
    failure(error);
  }
  state.events = openEvents(onEvent, setLive);
  state.timer = setInterval(refresh, POLL_MS);
  const view = { call_taker: "taker", agency: "agency" }[me.role] || "wallboard";
  showView(view);
}

function fillCategories() {
  const select = $("f-category");
  const current = select.value;
  select.replaceChildren(
    ...Object.keys(state.agencies.routes).map((category) =>
      h("option", { value: category }, t(`cat.${category}`)),
    ),
  );
  if (current) select.value = current;
}

// --- live events

function onEvent(kind, data) {
  if (kind === "call.connected" && state.me && data.agent === state.me.name) {
    toast(t("toast.newcall"));
    state.dismissed.delete(data.call_id);
    state.callEvent = data;
    popCall(data.call_id, data);
    return;
  }
  if (kind === "call.ended" && state.call && data.call_id === state.call.id) {
    const known = state.callEvent?.call_id === data.call_id ? state.callEvent : null;
    popCall(data.call_id, known);
    return;
  }
  if (state.incident && data.incident_id === state.incident.id) {
    loadIncident(state.incident.id);
  }
  clearTimeout(state.pending);
  state.pending = setTimeout(refresh, 250);
}

async function refresh() {
  if (!state.me) return;
  try {
    if (state.view === "taker") await refreshTaker();
    else if (state.view === "wallboard") await refreshWallboard();
    else if (state.view === "agency") await refreshAgency();
  } catch (error) {
    failure(error);
  }
}

// --- the call taker's screen

function stateBadge(node, value, reason = "") {
  node.dataset.state = value;
  node.textContent = t(`state.${value}`);
  if (reason) node.title = reason;
}

async function refreshTaker() {
  const me = state.me.name;
  const [queue, calls, callbacks, open] = await Promise.all([
    api("/api/queue").catch((error) => (error.status >= 500 ? null : Promise.reject(error))),
    api("/api/calls?limit=100"),
    api("/api/callbacks?limit=50"),
    api("/api/incidents?status=open&limit=50"),
  ]);
  const mine = queue?.takers.find((taker) => taker.id === me);
  if (queue) {
    $("q-waiting").textContent = num(queue.calls_waiting);
    $("q-longest").textContent = queue.longest_wait_seconds == null ? "—" : `${queue.longest_wait_seconds} s`;
  }
  if (mine) {
    stateBadge($("my-state"), mine.state);
    $("my-reason").textContent = mine.reason;
  } else {
    $("my-state").dataset.state = "logged_out";
    $("my-state").textContent = queue ? t("taker.notmember") : t("wall.noami");
    $("my-reason").textContent = "";
  }
  for (const button of document.querySelectorAll("[data-change]")) button.disabled = !mine;

  const answered = calls.calls.filter((call) => call.agent === me);
  const active = answered.find((call) => call.connected_at && !call.ended_at);
  // The fallback when live events are down: the call this taker is connected to pops, unless
  // they are working on another call that is still live, or have dismissed this one.
  const busy = state.call && !state.call.ended_at;
  if (active && state.call?.id !== active.id && !state.dismissed.has(active.id) && !busy) {
    await popCall(active.id);
  }
  renderMyCalls(answered.slice(0, 12));
  renderCallbacks(callbacks.callbacks);
  const attach = $("f-attach");
  const chosen = attach.value;
  attach.replaceChildren(
    ...(open.incidents.length
      ? open.incidents.map((i) => h("option", { value: i.id }, `#${i.id} ${t(`cat.${i.category}`)} — ${i.location.text || i.description || ""}`.slice(0, 80)))
      : [h("option", { value: "" }, t("form.noopen"))]),
  );
  if (chosen) attach.value = chosen;
  if (state.call && !state.call.ended_at) {
    const fresh = calls.calls.find((call) => call.id === state.call.id);
    if (fresh?.ended_at) popCall(fresh.id);
  }
}

function renderMyCalls(calls) {
  const list = $("my-calls");
  if (!calls.length) return list.replaceChildren(h("li", { class: "empty" }, t("mycalls.none")));
  list.replaceChildren(
    ...calls.map((call) =>
      h("li", {},
        h("button", { type: "button", class: "link", onclick: () => { state.dismissed.delete(call.id); popCall(call.id); } },
          h("span", { class: "mono" }, time(call.arrived_at)), " ",
          call.cannot_speak ? h("span", { class: "flag tiny danger" }, "55") : null, " ",
          call.caller_number, " · ", screeningText(call))),
    ),
  );
}

function renderCallbacks(rows) {
  const body = $("callbacks");
  if (!rows.length) {
    return body.replaceChildren(h("tr", {}, h("td", { colspan: "3", class: "empty" }, t("callbacks.none"))));
  }
  body.replaceChildren(
    ...rows.map((row) =>
      h("tr", {}, h("td", { class: "mono" }, dateTime(row.created_at)), h("td", { class: "mono" }, row.caller_number), h("td", {}, t(`dispo.${row.reason}`, row.reason))),
    ),
  );
}

function screeningText(call) {
  if (call.cannot_speak || call.queue_reason === "pressed_55") return t("screen.pressed_55");
  return t(`screen.${call.queue_reason || "none"}`);
}

async function popCall(callId, fromEvent = null, attempt = 0) {
  let detail;
  try {
    detail = await api(`/api/calls/${encodeURIComponent(callId)}?why=${encodeURIComponent("call pop")}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && fromEvent) {
      // call.connected arrived before the call's record was stored: show what the event says
      // (its number masked) and look again every 2 s while this call is still on the screen.
      if (attempt > 0 && state.call?.id !== callId) return;
      renderCall({ id: callId, caller_number: fromEvent.caller_number || "", caller_name: "",
        arrived_at: fromEvent.arrived_at, queue_reason: fromEvent.queue_reason || "",
        cannot_speak: !!fromEvent.cannot_speak, repeat_of: null, earlier_calls: [] }, true);
      if (attempt < 150) setTimeout(() => popCall(callId, fromEvent, attempt + 1), 2000);
      return;
    }
    if (error instanceof ApiError && error.status === 404 && state.call?.id === callId) {
      return; // not stored yet (e.g. spooled while the database is away): keep what is shown
    }
    failure(error);
    return;
  }
  if (attempt > 0 && state.call?.id !== callId) return;
  renderCall(detail, false);
}

function renderCall(call, pending) {
  const changed = state.call?.id !== call.id;
  state.call = call;
  if (changed) state.incident = null;
  $("call-pop").dataset.active = "true";
  $("call-pop").dataset.urgent = String(!!(call.cannot_speak || call.queue_reason === "pressed_55"));
  $("call-empty").hidden = true;
  $("call-body").hidden = false;
  $("call-number").textContent = call.caller_number || "—";
  $("call-name").textContent = call.caller_name || "";
  $("call-arrived").textContent = time(call.arrived_at);
  $("call-id").textContent = call.id;
  $("call-live").textContent = pending ? t("call.pending") : call.ended_at ? t("call.ended") : t("call.connected");
  $("call-live").dataset.state = call.ended_at ? "ended" : "live";
  const flags = [];
  if (call.cannot_speak || call.queue_reason === "pressed_55") flags.push(h("span", { class: "flag danger", id: "flag-55" }, t("call.cannot_speak")));
  if (call.repeat_of) flags.push(h("span", { class: "flag warn", id: "flag-repeat" }, t("call.repeat")));
  if (call.queue_reason === "silent") flags.push(h("span", { class: "flag muted" }, t("call.silent")));
  $("call-flags").replaceChildren(...flags);
  $("call-screening").textContent = screeningText(call);
  const earlier = call.earlier_calls || [];
  $("earlier-count").textContent = String(earlier.length);
  $("call-earlier").open = earlier.length > 0 && earlier.length <= 3;
  $("earlier-list").replaceChildren(
    ...earlier.map((e) => h("li", {}, h("span", { class: "mono" }, dateTime(e.arrived_at)),
      ` · ${t(`dispo.${e.disposition}`, e.disposition)} · ${t(`valid.${e.validity}`, e.validity)}${e.agent ? ` · ${e.agent}` : ""}`)),
  );
  if (changed) {
    resetForm();
    $("call-location").hidden = true;
  }
  const done = $("call-done");
  done.hidden = !call.closure;
  if (call.closure) done.textContent = `${t("call.closed")} ${t(`disp.${call.closure}`)}`;
  $("incident-form").hidden = pending || !!call.closure || !!call.incident_id || !!state.incident;
  if (call.incident_id && (!state.incident || state.incident.id !== call.incident_id)) {
    loadIncident(call.incident_id);
  }
  renderIncident();
}

function resetForm() {
  $("incident-form").reset();
  $("form-error").hidden = true;
  fillCategories();
}

async function loadIncident(id) {
  try {
    state.incident = await api(`/api/incidents/${id}`);
  } catch (error) {
    failure(error);
  }
  renderIncident();
}

function renderIncident() {
  const incident = state.incident;
  const card = $("incident-card");
  card.hidden = !incident;
  if (!incident) return;
  $("incident-form").hidden = true;
  $("inc-id").textContent = String(incident.id);
  $("inc-category").textContent = `${t(`cat.${incident.category}`)} · P${incident.priority}`;
  const where = incident.location;
  const coords = where.latitude != null ? ` (${where.latitude.toFixed(5)}, ${where.longitude.toFixed(5)})` : "";
  const place = where.text || coords
    ? `${where.text}${coords} · ${t(`source.${where.source}`)}` : t("agency.nolocation");
  const location = $("call-location");
  location.hidden = false;
  location.textContent = `${t("incident.location")}: ${place}`;
  const verification = $("inc-verification");
  verification.textContent = t(`verif.${incident.verification}`);
  verification.dataset.state = incident.verification;
  const closed = incident.status === "closed";
  for (const button of card.querySelectorAll("[data-verify]")) {
    button.disabled = closed || button.dataset.verify === incident.verification;
  }
  const route = state.agencies.routes[incident.category];
  const handoffs = incident.handoffs || [];
  const primary = route?.primary || "";
  const waiting = handoffs.some((ho) => ho.agency === primary && ho.state !== "closed");
  const button = $("btn-handoff");
  button.textContent = `${t("incident.handoff")} ${agencyName(primary)}`;
  button.disabled = closed || incident.verification !== "verified" || waiting || !primary;
  $("inc-handoffs").replaceChildren(
    ...handoffs.map((ho) =>
      h("li", { class: "handoff-line", dataset: { state: ho.state } },
        h("strong", {}, agencyName(ho.agency)), " — ",
        h("span", { class: "state-badge small", dataset: { state: ho.state } }, t(`handoff.${ho.state}`)),
        ho.acknowledged_at ? ` ${time(ho.acknowledged_at)}` : ""),
    ),
  );
}

function floatOrNull(raw) {
  const text = raw.trim().replace(",", ".");
  if (!text) return null;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(t("form.badcoord"));
  return value;
}

async function createIncident(event) {
  event.preventDefault();
  if (!state.call) return;
  const error = $("form-error");
  error.hidden = true;
  let body;
  try {
    body = {
      category: $("f-category").value,
      description: $("f-description").value,
      priority: Number($("f-priority").value),
      location: {
        text: $("f-location").value,
        latitude: floatOrNull($("f-lat").value),
        longitude: floatOrNull($("f-lon").value),
        source: $("f-source").value,
      },
    };
  } catch (problem) {
    error.textContent = problem.message;
    error.hidden = false;
    return;
  }
  try {
    const incident = await api(`/api/calls/${encodeURIComponent(state.call.id)}/incident`, { method: "POST", body });
    toast(`${t("toast.created")} #${incident.id}`);
    await loadIncident(incident.id);
  } catch (problem) {
    error.textContent = problem.field ? `${problem.field}: ${problem.message}` : problem.message;
    error.hidden = false;
  }
}

async function verify(stateName) {
  if (!state.incident) return;
  try {
    await api(`/api/incidents/${state.incident.id}/verification`, { method: "POST", body: { state: stateName } });
    toast(t("toast.verified"));
    await loadIncident(state.incident.id);
  } catch (error) {
    failure(error);
  }
}

async function handOff() {
  if (!state.incident) return;
  try {
    const handoff = await api(`/api/incidents/${state.incident.id}/handoffs`, { method: "POST", body: {} });
    toast(`${t("toast.handoff")} ${agencyName(handoff.agency)}`);
    await loadIncident(state.incident.id);
  } catch (error) {
    failure(error);
  }
}

async function attachCall() {
  const id = Number($("f-attach").value);
  if (!state.call || !id) return;
  try {
    await api(`/api/calls/${encodeURIComponent(state.call.id)}/incident`, { method: "POST", body: { incident_id: id } });
    toast(`${t("toast.attached")} #${id}`);
    await loadIncident(id);
  } catch (error) {
    failure(error);
  }
}

async function closeCall() {
  if (!state.call) return;
  const disposition = $("f-disposition").value;
  try {
    await api(`/api/calls/${encodeURIComponent(state.call.id)}/closure`, { method: "POST", body: { disposition } });
    toast(t("toast.closed"));
    await popCall(state.call.id);
  } catch (error) {
    failure(error);
  }
}

function dismissCall() {
  if (state.call) state.dismissed.add(state.call.id);
  state.call = null;
  state.incident = null;
  $("call-pop").dataset.active = "false";
  $("call-pop").dataset.urgent = "false";
  $("call-empty").hidden = false;
  $("call-body").hidden = true;
}

async function changeState(change) {
  const body = { state: change };
  if (change === "paused") body.reason = $("pause-reason").value;
  try {
    await api(`/api/takers/${encodeURIComponent(state.me.name)}/state`, { method: "POST", body });
    toast(t("toast.state"));
    await refreshTaker();
  } catch (error) {
    failure(error);
  }
}

// --- the supervisor's wallboard

async function refreshWallboard() {
  const [wall, queue] = await Promise.all([
    api("/api/wallboard"),
    api("/api/queue").catch((error) => (error.status >= 500 ? null : Promise.reject(error))),
  ]);
  const today = wall.today;
  const tile = (id, value, text = num(value)) => {
    $(id).textContent = text;
    $(id).dataset.value = value == null ? "" : String(value); // the raw figure, for tests and tools
  };
  tile("t-total", today.total_calls);
  tile("t-unanswered", today.unanswered_in_queue);
  tile("t-valid", today.answered_valid);
  tile("t-invalid", today.answered_invalid);
  tile("t-emergencies", today.verified_emergencies);
  tile("t-55", today.pressed_55);
  const sla = today.within_15s_pct_of_answered;
  tile("t-sla", sla, sla == null ? "—" : `${num(sla, 1)} %`);
  $("t-sla-tile").dataset.level = sla == null ? "none" : sla >= 90 ? "good" : "bad";
  $("wall-day").textContent = wall.day;
  $("wall-tz").textContent = wall.timezone;
  $("wall-updated").textContent = time(new Date().toISOString());

  if (queue) {
    tile("t-waiting", queue.calls_waiting);
    $("t-waiting-tile").dataset.level = queue.calls_waiting > 0 ? "warn" : "good";
    tile("t-longest", queue.longest_wait_seconds, queue.longest_wait_seconds == null ? "0" : num(queue.longest_wait_seconds));
    $("takers").replaceChildren(
      ...queue.takers.map((taker) =>
        h("tr", { dataset: { taker: taker.id } },
          h("td", {}, h("strong", {}, taker.id), " ", h("span", { class: "muted" }, taker.name)),
          h("td", {}, h("span", { class: "state-badge", dataset: { state: taker.state } }, t(`state.${taker.state}`))),
          h("td", {}, taker.reason),
          h("td", { class: "num" }, num(taker.calls_taken))),
      ),
    );
  } else {
    $("t-waiting").textContent = "—";
    $("t-longest").textContent = "—";
    $("takers").replaceChildren(h("tr", {}, h("td", { colspan: "4", class: "error" }, t("wall.noami"))));
  }

  $("unacked-none").hidden = wall.unacknowledged.length > 0;
  $("unacked").replaceChildren(
    ...wall.unacknowledged.map((ho) =>
      h("tr", { dataset: { state: ho.state } },
        h("td", {}, `#${ho.incident_id}`),
        h("td", {}, ho.agencies.map(agencyName).join(", ")),
        h("td", {}, h("span", { class: "state-badge small", dataset: { state: ho.state } }, t(`handoff.${ho.state}`))),
        h("td", { class: "mono" }, time(ho.sent_at))),
    ),
  );

  const labels = wall.hours.map((hour) => hour.start.slice(11, 13));
  barChart($("chart-calls"), labels, [
    { name: t("chart.offered"), values: wall.hours.map((x) => x.offered), cls: "offered" },
    { name: t("chart.answered"), values: wall.hours.map((x) => x.answered), cls: "answered" },
    { name: t("chart.abandoned"), values: wall.hours.map((x) => x.abandoned_in_queue), cls: "abandoned" },
  ]);
  barChart($("chart-answer"), labels, [
    { name: t("chart.p50"), values: wall.hours.map((x) => x.answer_p50_seconds), cls: "p50" },
    { name: t("chart.p90"), values: wall.hours.map((x) => x.answer_p90_seconds), cls: "p90" },
  ], { line: { value: 15, name: t("chart.target"), cls: "target-line" }, unit: " s" });
}

// --- the agency's view

async function refreshAgency() {
  $("agency-name").textContent = state.me.agency ? `— ${agencyName(state.me.agency)}` : "";
  const { handoffs } = await api("/api/handoffs?limit=200");
  const recent = handoffs.slice(-40).reverse();
  recent.sort((a, b) => (a.state === "closed") - (b.state === "closed"));
  const ids = [...new Set(recent.map((ho) => ho.incident_id))];
  const incidents = Object.fromEntries(
    await Promise.all(ids.map(async (id) => [id, await api(`/api/incidents/${id}`).catch(() => null)])),
  );
  $("handoffs-none").hidden = recent.length > 0;
  $("handoffs").replaceChildren(...recent.map((ho) => handoffCard(ho, incidents[ho.incident_id])));
  if (state.selectedHandoff) {
    const chosen = recent.find((ho) => ho.id === state.selectedHandoff);
    if (chosen) renderTimeline(incidents[chosen.incident_id]);
  }
}

function handoffCard(ho, incident) {
  const awaiting = ["pending", "escalated_to_supervisor", "escalated_to_second_agency"].includes(ho.state);
  const location = incident?.location;
  const coords = location && location.latitude != null ? `${location.latitude.toFixed(5)}, ${location.longitude.toFixed(5)}` : "";
  return h("li", { class: `handoff card-inner${state.selectedHandoff === ho.id ? " selected" : ""}`, dataset: { state: ho.state, handoff: ho.id } },
    h("div", { class: "handoff-head" },
      h("button", { type: "button", class: "link big", onclick: () => { state.selectedHandoff = ho.id; renderTimeline(incident); refreshAgency(); } },
        `#${ho.incident_id} ${incident ? t(`cat.${incident.category}`) : ""}`),
      incident ? h("span", { class: "prio", dataset: { p: incident.priority } }, `${t("agency.priority")} ${incident.priority}`) : null,
      h("span", { class: "state-badge", dataset: { state: ho.state } }, t(`handoff.${ho.state}`))),
    h("div", { class: "handoff-location" },
      location?.text || t("agency.nolocation"),
      coords ? h("span", { class: "mono coords" }, ` (${coords}, ${t(`source.${location.source}`)})`) : null),
    incident?.description ? h("div", { class: "muted" }, incident.description) : null,
    h("div", { class: "handoff-meta muted" },
      `${t("col.sent")} ${time(ho.sent_at)}`,
      awaiting && ho.due_at ? ` · ${t("agency.due")} ${time(ho.due_at)}` : "",
      ho.acknowledged_at ? ` · ${t("handoff.acknowledged")} ${time(ho.acknowledged_at)} (${ho.acknowledged_by})` : ""),
    h("div", { class: "actions" },
      awaiting ? h("button", { type: "button", class: "primary", dataset: { ack: ho.id }, onclick: () => acknowledge(ho.id) }, t("agency.ack")) : null,
      ho.state === "acknowledged" ? h("button", { type: "button", class: "ok", dataset: { close: ho.id }, onclick: () => closeHandoff(ho.id) }, t("agency.close")) : null),
  );
}

function renderTimeline(incident) {
  if (!incident) return;
  $("timeline-head").textContent = `#${incident.id} ${t(`cat.${incident.category}`)} · ${t(`verif.${incident.verification}`)}`;
  $("timeline").replaceChildren(
    ...incident.timeline.map((item) =>
      h("li", {}, h("span", { class: "mono" }, time(item.at)), " ", h("strong", {}, t(`tl.${item.kind}`, item.kind)), ` · ${item.actor}`, item.detail ? ` — ${item.detail}` : ""),
    ),
  );
}

async function acknowledge(id) {
  try {
    await api(`/api/handoffs/${id}/acknowledge`, { method: "POST" });
    toast(t("toast.acked"));
    state.selectedHandoff = id;
    await refreshAgency();
  } catch (error) {
    failure(error);
  }
}

async function closeHandoff(id) {
  try {
    await api(`/api/handoffs/${id}/close`, { method: "POST" });
    toast(t("toast.handoffclosed"));
    state.selectedHandoff = id;
    await refreshAgency();
  } catch (error) {
    failure(error);
  }
}

// --- wiring

function init() {
  applyStatic();
  $("lang").value = language();
  $("lang").addEventListener("change", (event) => {
    setLanguage(event.target.value);
    fillCategories();
    setLive($("live").dataset.state === "on");
    if (state.me) {
      $("who").textContent = `${state.me.name} · ${t(`role.${state.me.role}`)}${state.me.agency ? ` · ${state.me.agency}` : ""}`;
      if (state.call) renderCall(state.call, false);
      refresh();
    }
  });
  whenUnauthorized(() => {
    setToken("");
    showLogin(t("error.unauthorized"));
  });
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setToken($("token").value.trim());
    $("token").value = "";
    $("login-error").hidden = true;
    start();
  });
  $("sign-out").addEventListener("click", () => {
    setToken("");
    dismissCall();
    showLogin();
  });
  for (const button of document.querySelectorAll("#nav button")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
  for (const button of document.querySelectorAll("[data-change]")) {
    button.addEventListener("click", () => changeState(button.dataset.change));
  }
  for (const button of document.querySelectorAll("[data-verify]")) {
    button.addEventListener("click", () => verify(button.dataset.verify));
  }
  $("incident-form").addEventListener("submit", createIncident);
  $("btn-handoff").addEventListener("click", handOff);
  $("btn-attach").addEventListener("click", attachCall);
  $("btn-close-call").addEventListener("click", closeCall);
  $("btn-dismiss").addEventListener("click", dismissCall);
  if (token()) start();
  else showLogin();
}

init();
