/* callbot dashboard: builds pages from the JSON API. Values are only ever put into the page
 * with textContent / attributes, never as HTML. */
'use strict';
(function () {
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'class') e.className = attrs[k]; else e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function $(id) { return document.getElementById(id); }
  function api(method, url, body) {
    var opts = { method: method, credentials: 'same-origin', headers: {} };
    if (method !== 'GET') opts.headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) {
      if (r.status === 401) { location.href = '/login'; throw new Error('logged out'); }
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new Error(j.error || ('HTTP ' + r.status));
        return j;
      });
    });
  }
  function notice(msg, good) {
    var n = $('notice'); if (!n) return;
    n.textContent = msg; n.hidden = !msg; n.className = 'notice ' + (good ? 'good' : 'bad');
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : '–'; }
  function dur(s) {
    if (s === null || s === undefined) return '–';
    var m = Math.floor(s / 60), r = s % 60; return (m ? m + ' min ' : '') + r + ' s';
  }
  function statusBadge(s) { return el('span', { class: 'status status-' + String(s || 'unknown').replace(/[^a-z]/g, '') }, s || 'unknown'); }
  function row(cells) {
    var tr = el('tr');
    cells.forEach(function (c) { var td = el('td'); if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? '' : String(c); tr.appendChild(td); });
    return tr;
  }
  function fill(tbody, rows) { tbody.textContent = ''; rows.forEach(function (r) { tbody.appendChild(r); }); }
  function link(href, text) { return el('a', { href: href }, text); }

  /* Navigation: mark the current page. */
  var page = document.body.getAttribute('data-page');
  document.querySelectorAll('[data-nav]').forEach(function (a) {
    if (a.getAttribute('data-nav') === page) a.setAttribute('aria-current', 'page');
  });

  function dashboard() {
    function showState(st) {
      var sip = $('sip-state'); sip.textContent = st.sip || 'unknown'; sip.className = 'big state-' + String(st.sip || '').replace(/[^a-z]/g, '');
      var calls = st.calls || [];
      $('active-count').textContent = calls.length;
      fill($('active-table').tBodies[0], calls.map(function (c) {
        return row([link('/calls/' + encodeURIComponent(c.id), c.caller || 'unknown'), c.callee, when(c.started_at), c.state]);
      }));
      $('active-empty').hidden = calls.length > 0;
    }
    function loadStats() {
      api('GET', '/api/stats').then(function (s) {
        $('calls-today').textContent = s.today.calls;
        $('answered-today').textContent = s.today.answered + ' answered · ' + s.today.turns + ' turns';
        $('avg-latency').textContent = s.today.avg_response_ms === null ? '–' : s.today.avg_response_ms + ' ms';
      }).catch(function (e) { notice(e.message); });
    }
    function loadRecent() {
      api('GET', '/api/calls?per_page=10').then(function (j) {
        fill($('recent-table').tBodies[0], j.calls.map(function (c) {
          return row([link('/calls/' + c.id, when(c.started_at)), c.caller, statusBadge(c.status), dur(c.duration_s)]);
        }));
      }).catch(function (e) { notice(e.message); });
    }
    checklist();
    api('GET', '/api/active_calls').then(showState).catch(function () {});
    loadStats(); loadRecent();
    if (window.EventSource) {
      var es = new EventSource('/api/events');
      es.addEventListener('state', function (ev) {
        var before = $('active-count').textContent;
        try { showState(JSON.parse(ev.data)); } catch (e) { return; }
        if (before !== $('active-count').textContent) { loadStats(); loadRecent(); }
      });
      es.addEventListener('call_started', function () { loadStats(); loadRecent(); });
      es.addEventListener('call_ended', function () { loadStats(); loadRecent(); });
      es.onopen = function () { $('live').className = 'live on'; };
      es.onerror = function () { $('live').className = 'live'; };
    }
  }

  // First-run checklist (admins): until every item is done or it is dismissed.
  function checklist() {
    var box = $('checklist');
    if (!box) return;
    api('GET', '/api/checklist').then(function (j) {
      box.setAttribute('data-loaded', j.show ? 'shown' : 'hidden'); // tests wait for it
      if (!j.show) return;
      fill($('checklist-items'), j.items.map(function (it) {
        var li = el('li', { class: it.done ? 'done' : 'todo', 'data-item': it.id });
        li.appendChild(el('span', { class: 'mark', 'aria-hidden': 'true' }, it.done ? '✓' : '○'));
        li.appendChild(el('span', { class: 'title' }, it.title + (it.done ? ' (done)' : '')));
        li.appendChild(el('span', { class: 'detail' }, it.detail));
        return li;
      }));
      box.hidden = false;
    }).catch(function () {}); // viewers get 403: no checklist for them
    $('checklist-dismiss').addEventListener('click', function () {
      api('POST', '/api/checklist/dismiss').then(function () { box.hidden = true; })
        .catch(function (e) { notice(e.message); });
    });
  }

  function calls() {
    var form = $('filters'), pageNo = 1, perPage = 20, total = 0;
    var params = new URLSearchParams(location.search);
    ['q', 'caller', 'from', 'to', 'status'].forEach(function (k) { if (params.get(k)) form.elements[k].value = params.get(k); });
    pageNo = parseInt(params.get('page') || '1', 10) || 1;
    function load() {
      var p = new URLSearchParams();
      ['q', 'caller', 'from', 'to', 'status'].forEach(function (k) { var v = form.elements[k].value.trim(); if (v) p.set(k, v); });
      p.set('page', pageNo); p.set('per_page', perPage);
      history.replaceState(null, '', '/calls?' + p.toString());
      api('GET', '/api/calls?' + p.toString()).then(function (j) {
        total = j.total;
        $('count').textContent = total + (total === 1 ? ' call' : ' calls');
        fill($('calls-table').tBodies[0], j.calls.map(function (c) {
          return row([link('/calls/' + c.id, when(c.started_at)), c.caller, c.callee, statusBadge(c.status), dur(c.duration_s)]);
        }));
        var pages = Math.max(1, Math.ceil(total / perPage));
        $('pageinfo').textContent = 'Page ' + pageNo + ' of ' + pages;
        $('prev').disabled = pageNo <= 1; $('next').disabled = pageNo >= pages;
      }).catch(function (e) { notice(e.message); });
    }
    form.addEventListener('submit', function (ev) { ev.preventDefault(); pageNo = 1; load(); });
    $('prev').addEventListener('click', function () { pageNo--; load(); });
    $('next').addEventListener('click', function () { pageNo++; load(); });
    load();
  }

  function call() {
    var id = location.pathname.split('/').pop();
    api('GET', '/api/calls/' + encodeURIComponent(id)).then(function (c) {
      document.querySelector('h1').textContent = 'Call with ' + (c.caller || 'unknown');
      var facts = $('facts');
      [['Caller', c.caller], ['Callee', c.callee], ['Started', when(c.started_at)], ['Answered', when(c.answered_at)],
       ['Ended', when(c.ended_at)], ['Duration', dur(c.duration_s)], ['Status', c.status], ['End reason', c.end_reason],
       ['Consent', c.consent], ['SIP Call-ID', c.sip_call_id]].forEach(function (f) {
        facts.appendChild(el('dt', null, f[0])); facts.appendChild(el('dd', null, f[1] === null || f[1] === undefined ? '–' : f[1]));
      });
      if (c.has_recording) { $('player').src = '/api/audio/' + encodeURIComponent(c.id); $('audio-box').hidden = false; }
      var list = $('turns');
      c.turns.forEach(function (t) {
        var li = el('li', { class: 'turn ' + (t.role === 'bot' ? 'bot' : 'caller') });
        li.appendChild(el('span', { class: 'who' }, t.role));
        li.appendChild(el('span', { class: 'text' }, t.text === null ? '(no text)' : t.text));
        var m = [when(t.started_at)];
        if (t.response_ms !== null) m.push('response ' + t.response_ms + ' ms');
        if (t.stt_ms !== null) m.push('STT ' + t.stt_ms + ' ms');
        if (t.llm_ms !== null) m.push('LLM ' + t.llm_ms + ' ms');
        if (t.tts_ms !== null) m.push('TTS ' + t.tts_ms + ' ms');
        li.appendChild(el('div', { class: 'meta' }, m.join(' · ')));
        list.appendChild(li);
      });
      $('turns-empty').hidden = c.turns.length > 0;
      return api('GET', '/api/me');
    }).then(function (me) {
      if (me && me.role === 'admin') $('delete-box').hidden = false;
    }).catch(function (e) { notice(e.message); });
    $('delete').addEventListener('click', function () {
      if (!confirm('Delete this call, its transcript and its recording? This cannot be undone.')) return;
      api('DELETE', '/api/calls/' + encodeURIComponent(id)).then(function () { location.href = '/calls'; })
        .catch(function (e) { notice(e.message); });
    });
  }

  function settings() {
    var form = $('settings-form');
    api('GET', '/api/settings').then(function (j) {
      var ro = [];
      j.settings.forEach(function (s) {
        if (!s.editable) { ro.push(row([s.key, s.value, s.help || ''])); return; }
        var r = el('div', { class: 'row' });
        var lab = el('label', { for: 'set-' + s.key }, s.key + ' ');
        lab.appendChild(el('span', { class: 'src' }, s.source === 'dashboard' ? '(set here)' : '(from .env)'));
        var input;
        if (s.type === 'enum' || s.type === 'bool') {
          input = el('select');
          (s.type === 'bool' ? ['on', 'off'] : s.choices).forEach(function (c) { var o = el('option', null, c); o.value = c; input.appendChild(o); });
        } else if (s.key === 'SYSTEM_PROMPT' || s.key === 'GREETING' || s.key === 'CONSENT_NOTICE') {
          input = el('textarea');
        } else {
          input = el('input', s.type === 'int' ? { type: 'number', min: s.min, max: s.max } : { type: 'text' });
        }
        input.id = 'set-' + s.key; input.name = s.key; input.value = s.value;
        input.setAttribute('data-orig', s.value);
        r.appendChild(lab); r.appendChild(input);
        if (s.help) r.appendChild(el('p', { class: 'help' }, s.help));
        form.appendChild(r);
      });
      var b = el('button', { type: 'submit', class: 'primary', id: 'save' }, 'Save changes');
      form.appendChild(el('div')).appendChild(b);
      fill($('ro-table').tBodies[0], ro);
    }).catch(function (e) { notice(e.message); });
    diagnostics();
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var changes = {}, n = 0;
      Array.prototype.forEach.call(form.elements, function (i) {
        if (i.name && i.value !== i.getAttribute('data-orig')) { changes[i.name] = i.value; n++; }
      });
      if (!n) { notice('Nothing changed.', true); return; }
      api('POST', '/api/settings', changes).then(function () {
        notice('Saved ' + n + (n === 1 ? ' setting.' : ' settings.'), true);
        Array.prototype.forEach.call(form.elements, function (i) { if (i.name) i.setAttribute('data-orig', i.value); });
      }).catch(function (e) { notice(e.message); });
    });
  }

  // Diagnostics on the settings page: one button per live test, the result under it.
  function diagnostics() {
    function run(btn, out, url, body, describe) {
      btn.disabled = true;
      out.hidden = false; out.className = 'notice'; out.textContent = 'Running…';
      out.removeAttribute('data-result');
      api('POST', url, body).then(function (j) {
        return { ok: j.ok !== false, text: describe(j) };
      }, function (e) { return { ok: false, text: e.message }; }).then(function (r) {
        out.className = 'notice ' + (r.ok ? 'good' : 'bad');
        out.setAttribute('data-result', r.ok ? 'pass' : 'fail');
        out.textContent = (r.ok ? 'PASS: ' : 'FAIL: ') + r.text;
        btn.disabled = false;
      });
    }
    $('diag-sip').addEventListener('click', function () {
      run(this, $('diag-sip-out'), '/api/test_sip', undefined, function (j) { return j.message + ' (' + j.ms + ' ms)'; });
    });
    $('diag-llm').addEventListener('click', function () {
      run(this, $('diag-llm-out'), '/api/test_llm', undefined, function (j) { return 'answered "' + j.answer + '" (' + j.latency_ms + ' ms)'; });
    });
    $('diag-speech').addEventListener('click', function () {
      run(this, $('diag-speech-out'), '/api/test_speech', undefined, function (j) { return j.message; });
    });
    $('diag-call-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      run($('diag-call'), $('diag-call-out'), '/api/test_call', { to: $('diag-call-to').value.trim() },
        function () { return 'the call is being placed; it appears under Calls'; });
    });
  }

  function users() {
    var me = $('whoami').textContent;
    function load() {
      api('GET', '/api/users').then(function (j) {
        fill($('users-table').tBodies[0], j.users.map(function (u) {
          var actions = el('span');
          if (u.username !== me) {
            var t = el('button', { type: 'button' }, u.disabled ? 'Enable' : 'Disable');
            t.addEventListener('click', function () { update(u.username, { disabled: !u.disabled }); });
            var r = el('button', { type: 'button' }, u.role === 'admin' ? 'Make viewer' : 'Make admin');
            r.addEventListener('click', function () { update(u.username, { role: u.role === 'admin' ? 'viewer' : 'admin' }); });
            var d = el('button', { type: 'button', class: 'danger' }, 'Delete');
            d.addEventListener('click', function () {
              if (confirm('Delete user ' + u.username + '?')) api('DELETE', '/api/users/' + encodeURIComponent(u.username)).then(load).catch(function (e) { notice(e.message); });
            });
            [t, r, d].forEach(function (b) { actions.appendChild(b); actions.appendChild(document.createTextNode(' ')); });
          }
          return row([u.username, u.role, u.disabled ? 'disabled' : 'active', when(u.last_login_at), actions]);
        }));
      }).catch(function (e) { notice(e.message); });
      api('GET', '/api/tokens').then(function (j) {
        fill($('tokens-table').tBodies[0], j.tokens.map(function (t) {
          var b = el('button', { type: 'button', class: 'danger' }, 'Revoke');
          b.addEventListener('click', function () { api('DELETE', '/api/tokens/' + t.id).then(load).catch(function (e) { notice(e.message); }); });
          return row([t.id, t.user, t.name, when(t.created_at), when(t.last_used_at), b]);
        }));
      }).catch(function () {});
    }
    function update(name, change) {
      api('POST', '/api/users/' + encodeURIComponent(name), change).then(load).catch(function (e) { notice(e.message); });
    }
    $('user-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      api('POST', '/api/users', { username: $('nu-name').value, password: $('nu-pw').value, role: $('nu-role').value })
        .then(function () { $('nu-name').value = ''; $('nu-pw').value = ''; notice('User added.', true); load(); })
        .catch(function (e) { notice(e.message); });
    });
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      api('POST', '/api/tokens', { name: $('tk-name').value }).then(function (t) {
        var box = $('new-token'); box.textContent = 'New token (copy it now, it is not shown again): ' + t.token; box.hidden = false; load();
      }).catch(function (e) { notice(e.message); });
    });
    load();
  }

  function audit() {
    var pageNo = 1, perPage = 50;
    function load() {
      api('GET', '/api/audit?page=' + pageNo + '&per_page=' + perPage).then(function (j) {
        fill($('audit-table').tBodies[0], j.entries.map(function (a) {
          var tr = row([when(a.timestamp), a.user || '–', a.action, a.details || '', a.ip_address || '']);
          tr.children[3].className = 'details';
          return tr;
        }));
        var pages = Math.max(1, Math.ceil(j.total / perPage));
        $('pageinfo').textContent = 'Page ' + pageNo + ' of ' + pages;
        $('prev').disabled = pageNo <= 1; $('next').disabled = pageNo >= pages;
      }).catch(function (e) { notice(e.message); });
    }
    $('prev').addEventListener('click', function () { pageNo--; load(); });
    $('next').addEventListener('click', function () { pageNo++; load(); });
    load();
  }

  var pages = { dashboard: dashboard, calls: calls, settings: settings, users: users, audit: audit };
  if (page === 'calls' && /^\/calls\/\d+$/.test(location.pathname)) call();
  else if (pages[page]) pages[page]();
})();
