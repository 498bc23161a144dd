// The chat page: signs in with the KalamDB client SDK, keeps the room list and the selected room's
// messages current with `db.live()`, and sends messages with a parameterized INSERT.
//
// chat.rooms is a PUBLIC shared table (everyone sees the same rooms); chat.messages is a USER
// table, so the same SELECT returns only the signed-in user's own messages.

import { createClient, KalamError } from "./kalamdb-client.js";

const API = new URLSearchParams(location.search).get("api") ?? "http://127.0.0.1:2900";

const $ = (id) => document.getElementById(id);

/** The session: the client, the live queries and the selected room. */
const session = {
  db: undefined,
  user: "",
  rooms: [],
  roomId: undefined,
  stopRooms: undefined,
  stopMessages: undefined,
};

// ---------------------------------------------------------------- status and errors

/** `state`: signed-out | connecting | live | error. */
function setStatus(state, text = state.replace("-", " ")) {
  const el = $("status");
  el.dataset.state = state;
  el.textContent = text;
}

/** The live socket's state (SDK `onConnectionChange`) shown in the status pill. */
function onConnection(state) {
  if (!session.db) return;
  if (state === "open") setStatus("live");
  else if (state === "connecting" || state === "reconnecting") setStatus("connecting", `${state}…`);
  else if (state === "closed") setStatus("error", "disconnected");
}

function showError(err) {
  const code = err instanceof KalamError ? err.code : (err?.name ?? "ERROR");
  $("error-code").textContent = code;
  $("error-message").textContent = err?.message ?? String(err);
  $("error").hidden = false;
  console.error(err);
}

/** A live query failed (e.g. LIVE_QUERY_KILLED, SUBSCRIPTION_OVERFLOW). */
function liveError(err) {
  setStatus("error");
  showError(err);
}

function clearError() {
  $("error").hidden = true;
}

// ---------------------------------------------------------------- sign in / out

async function signIn(user, password) {
  clearError();
  setStatus("connecting", "connecting…");
  $("login-submit").disabled = true;
  const db = createClient({ url: API, auth: { user, password }, onConnectionChange: onConnection });
  try {
    // Checks the credentials (a wrong password is UNAUTHORIZED) before any live query starts.
    await db.query("SELECT id FROM chat.rooms LIMIT 1");
  } catch (err) {
    db.close();
    setStatus("signed-out");
    showError(err);
    return;
  } finally {
    $("login-submit").disabled = false;
  }
  Object.assign(session, { db, user, rooms: [], roomId: undefined });
  const avatar = Object.assign(document.createElement("span"), { className: "avatar" });
  avatar.textContent = user.slice(0, 1);
  $("me").replaceChildren(avatar, user);
  $("me").hidden = $("logout").hidden = false;
  $("login-view").hidden = true;
  $("chat-view").hidden = false;
  const live = db.live("SELECT id, name FROM chat.rooms", renderRooms, { onError: liveError });
  session.stopRooms = live;
  try {
    await live.ready;
    setStatus("live");
  } catch (err) {
    setStatus("error");
    showError(err);
  }
}

function signOut() {
  session.stopMessages?.();
  session.stopRooms?.();
  session.db?.close();
  Object.assign(session, {
    db: undefined,
    user: "",
    rooms: [],
    roomId: undefined,
    stopRooms: undefined,
    stopMessages: undefined,
  });
  $("rooms").replaceChildren();
  $("messages").replaceChildren();
  $("me").hidden = $("logout").hidden = true;
  $("chat-view").hidden = true;
  $("login-view").hidden = false;
  setStatus("signed-out");
}

// ---------------------------------------------------------------- rooms

function renderRooms(rows) {
  session.rooms = rows;
  const items = rows.map((room) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "room-link";
    button.dataset.roomId = String(room.id);
    button.textContent = `# ${room.name}`;
    button.setAttribute("aria-current", String(room.id === session.roomId));
    button.addEventListener("click", () => selectRoom(room.id));
    li.append(button);
    return li;
  });
  $("rooms").replaceChildren(...items);
  if (session.roomId === undefined && rows.length > 0) selectRoom(rows[0].id);
}

async function selectRoom(id) {
  if (id === session.roomId) return;
  session.stopMessages?.();
  session.roomId = id;
  for (const b of document.querySelectorAll(".room-link")) {
    b.setAttribute("aria-current", String(b.dataset.roomId === String(id)));
  }
  const room = session.rooms.find((r) => r.id === id);
  $("room-title").textContent = `# ${room?.name ?? id}`;
  $("messages").replaceChildren();
  // Room ids are BIGINT (JS bigint): interpolating one cannot inject SQL.
  const sql = `SELECT id, body, created_at FROM chat.messages WHERE room_id = ${BigInt(id)}`;
  const live = session.db.live(sql, renderMessages, { onError: liveError });
  session.stopMessages = live;
  try {
    await live.ready;
    if (session.stopMessages === live) setStatus("live");
  } catch (err) {
    setStatus("error");
    showError(err);
  }
}

// ---------------------------------------------------------------- messages

function formatTime(ts) {
  const date = ts?.toDate?.();
  return date ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

function renderMessages(rows) {
  const list = $("messages");
  if (rows.length === 0) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "No messages yet. Only you will see what you write in this room.";
    list.replaceChildren(empty);
    return;
  }
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...rows.map((m) => {
    const li = document.createElement("li");
    li.className = "message";
    li.dataset.id = String(m.id);
    const avatar = document.createElement("span");
    avatar.className = "avatar";
    avatar.textContent = session.user.slice(0, 1);
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    const body = document.createElement("span");
    body.className = "body";
    body.textContent = m.body;
    const meta = document.createElement("time");
    meta.className = "meta";
    meta.dateTime = m.created_at?.toString() ?? "";
    meta.textContent = `${session.user} · ${formatTime(m.created_at)}`;
    bubble.append(body, meta);
    li.append(avatar, bubble);
    return li;
  }));
  if (atBottom) list.scrollTop = list.scrollHeight;
}

async function send(text) {
  const input = $("compose-input");
  input.disabled = $("compose-send").disabled = true;
  try {
    await session.db.query("INSERT INTO chat.messages (room_id, body) VALUES ($1, $2)", [
      session.roomId,
      text,
    ]);
    input.value = "";
    clearError();
  } catch (err) {
    showError(err);
  } finally {
    input.disabled = $("compose-send").disabled = false;
    input.focus();
  }
}

// ---------------------------------------------------------------- wiring

$("api-url").textContent = API;
$("error-close").addEventListener("click", clearError);
$("logout").addEventListener("click", signOut);
$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  signIn($("login-user").value.trim(), $("login-password").value);
});
for (const chip of document.querySelectorAll(".chip")) {
  chip.addEventListener("click", () => {
    $("login-user").value = chip.dataset.user;
    $("login-password").value = chip.dataset.password;
  });
}
$("compose").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("compose-input").value.trim();
  if (text && session.roomId !== undefined) send(text);
});
setStatus("signed-out");
