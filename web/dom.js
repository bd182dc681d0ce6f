// DOM helpers. Every value reaches the page as text (textContent, attribute
// values, form values): provider bodies and headers are attacker-controlled,
// so nothing here ever parses a string as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

// h('button', {type: 'button', class: 'x', on: {click: f}, attrs: {...}}, 'text', child, ...)
// Known DOM properties are set as properties; `attrs` become attributes.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function applyProps(el, props) {
  if (!props) return;
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name === 'on') {
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    } else if (name === 'attrs') {
      for (const [attr, v] of Object.entries(value)) {
        if (v !== undefined && v !== null && v !== false) el.setAttribute(attr, v === true ? '' : String(v));
      }
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el[name] = value;
    }
  }
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

let uniqueCounter = 0;
export function uid(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

// A label + control pair. Returns {wrap, input}.
export function field(labelText, control, hint) {
  control.id = control.id || uid('f');
  const wrap = h('div', { class: 'field' }, h('label', { htmlFor: control.id, text: labelText }), control);
  if (hint) {
    const hintEl = h('p', { class: 'hint', id: uid('hint'), text: hint });
    control.setAttribute('aria-describedby', hintEl.id);
    wrap.append(hintEl);
  }
  return wrap;
}

// A time element showing the local time, with the ISO value as its datetime.
export function time(iso) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  const d = new Date(iso);
  const text = Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
  return h('time', { dateTime: iso, title: iso, text });
}

// Re-renders `root` with `fn` and puts the focus back on the element that
// carries the same data-fk key, so a live refresh never drops a keyboard
// user's place; if that element is gone (deleted), on the view's heading.
export function keepFocus(root, fn) {
  const active = document.activeElement;
  const inside = Boolean(active && active !== root && root.contains(active));
  const key = inside ? active.dataset.fk : undefined;
  fn();
  if (!inside || active.isConnected) return;
  let target = key ? root.querySelector(`[data-fk="${CSS.escape(key)}"]`) : null;
  if (!target) target = root.closest('section')?.querySelector('h1') || root.querySelector('h1');
  if (target) {
    if (target.localName === 'h1') target.tabIndex = -1;
    target.focus();
  }
}

// Runs `fn` at most once per `ms`, after the last call.
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
