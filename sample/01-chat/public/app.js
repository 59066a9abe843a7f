// The sample's page: plain browser JavaScript and the socket.io client the server serves.
/* global io */
const $ = (id) => document.getElementById(id);
const joined = new Set();
let socket;

/** Calls the HTTP API; rejects with the server's message. */
async function api(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(describe(json.message) || res.statusText);
  return json;
}

const describe = (message) => (Array.isArray(message) ? message.join(', ') : message);

/** Emits with an ack; a `{ error }` reply (the module's error shape) is shown and rejected. */
async function request(event, data) {
  const reply = await socket.timeout(5000).emitWithAck(event, data);
  if (reply && reply.error) {
    const text = describe(reply.error.data?.message ?? reply.error.message);
    $('chat-error').textContent = `${event}: ${text} (${reply.error.status})`;
    throw new Error(text);
  }
  $('chat-error').textContent = '';
  return reply;
}

function add(list, text, className) {
  const li = document.createElement('li');
  li.textContent = text;
  if (className) li.className = className;
  $(list).append(li);
  li.scrollIntoView({ block: 'nearest' });
  return li;
}

function renderRooms() {
  $('my-rooms').textContent = [...joined].map((r) => `#${r}`).join(' ');
  const select = $('message-room');
  const current = select.value;
  select.replaceChildren(
    ...[...joined].map((room) =>
      Object.assign(document.createElement('option'), { value: room, textContent: `#${room}` }),
    ),
  );
  if (joined.has(current)) select.value = current;
}

// Who is online: the server's PresenceService sends the whole state once, then diffs. A diff is
// applied leaves first, then joins; a meta is identified by its sid within its key (the user).
let online = {};

function applyPresenceDiff(state, { joins, leaves }) {
  for (const [user, { metas }] of Object.entries(leaves)) {
    const gone = new Set(metas.map((m) => m.sid));
    const left = (state[user]?.metas ?? []).filter((m) => !gone.has(m.sid));
    if (left.length) state[user] = { metas: left };
    else delete state[user];
  }
  for (const [user, { metas }] of Object.entries(joins)) {
    const fresh = new Set(metas.map((m) => m.sid));
    const kept = (state[user]?.metas ?? []).filter((m) => !fresh.has(m.sid));
    state[user] = { metas: [...kept, ...metas] };
  }
}

function renderOnline(users) {
  $('online').replaceChildren(
    ...users.map((user) => {
      const li = document.createElement('li');
      li.textContent = user;
      li.title = 'Send a private message';
      li.addEventListener('click', () => ($('private-to').value = user));
      return li;
    }),
  );
}

function showLogin() {
  $('login-panel').hidden = false;
  $('app-panel').hidden = true;
  $('status').textContent = 'Not connected';
}

function showApp(user) {
  $('login-panel').hidden = true;
  $('app-panel').hidden = false;
  $('me').textContent = user;
  connect();
}

function connect() {
  socket?.disconnect();
  socket = io();
  socket.on('connect', async () => {
    $('status').textContent = `Connected (${socket.id})`;
    // After a reconnection (to this or another instance) the new socket is in no room yet.
    for (const room of joined) await request('chat:join', { room });
  });
  socket.on('connect_error', (err) => {
    $('status').textContent = `Refused: ${err.message}`;
    if (err.data?.status === 401) showLogin();
  });
  socket.on('disconnect', (reason) => ($('status').textContent = `Disconnected (${reason})`));
  // Pushed by the server's handleConnection; so are my_response 'Connected' and the online list.
  socket.on('welcome', ({ user, instance }) => {
    $('me').textContent = user;
    $('instance').textContent = instance;
  });
  socket.on('counter', ({ count }) => ($('counter').textContent = String(count)));
  socket.on('presence_state', (state, topic) => {
    if (topic !== 'online') return;
    online = state;
    renderOnline(Object.keys(online).toSorted());
  });
  socket.on('presence_diff', (diff, topic) => {
    if (topic !== 'online') return;
    applyPresenceDiff(online, diff);
    renderOnline(Object.keys(online).toSorted());
  });
  socket.on('announcement', ({ from, text }) => add('announcements', `${from}: ${text}`));
  socket.on('notification', ({ text }) => add('notifications', text));
  socket.on('chat:message', ({ room, from, text }) =>
    add('messages', `[#${room}] ${from}: ${text}`),
  );
  socket.on('chat:private', ({ from, to, text }) =>
    add('messages', `[private] ${from} → ${to}: ${text}`, 'private'),
  );
  socket.on('chat:system', ({ text }) => add('messages', text, 'system'));
  socket.on('exception', ({ error }) => ($('chat-error').textContent = describe(error.message)));
  socket.on('my_response', (msg, ack) => {
    add('log', `#${msg.count}: ${msg.data}`);
    if (typeof ack === 'function') ack();
  });
}

/** Flask-SocketIO's example measures the round trip of a ping every few seconds. */
setInterval(() => {
  if (!socket?.connected) return;
  const start = performance.now();
  socket.timeout(5000).emit('my_ping', (err) => {
    if (!err) $('rtt').textContent = (performance.now() - start).toFixed(1);
  });
}, 1000);

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const { user } = await api('/api/login', { name: $('login-name').value.trim() });
    $('login-error').textContent = '';
    showApp(user);
  } catch (err) {
    $('login-error').textContent = err.message;
  }
});

$('logout-button').addEventListener('click', async () => {
  await api('/api/logout', {});
  socket?.disconnect();
  joined.clear();
  renderRooms();
  showLogin();
});

$('join-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const { room, members } = await request('chat:join', { room: $('chat-room').value.trim() });
  joined.add(room);
  renderRooms();
  $('message-room').value = room;
  add('messages', `You are in #${room} with ${members.join(', ')}`, 'system');
});

$('leave-room-button').addEventListener('click', async () => {
  const { room } = await request('chat:leave', { room: $('chat-room').value.trim() });
  joined.delete(room);
  renderRooms();
});

$('message-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  await request('chat:message', { room: $('message-room').value, text: $('chat-text').value });
  $('chat-text').value = '';
});

$('private-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  await request('chat:private', {
    to: $('private-to').value.trim(),
    text: $('private-text').value,
  });
  $('private-text').value = '';
});

for (const form of document.querySelectorAll('form[data-demo]')) {
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const event = form.dataset.demo;
    const fields = Object.fromEntries(new FormData(form));
    if (event === 'echo' || event === 'broadcast') socket.emit(event, fields.data);
    else if (event === 'disconnect_request') socket.emit(event);
    else socket.emit(event, fields);
  });
}

api('/api/me').then(({ user }) => showApp(user), showLogin);
