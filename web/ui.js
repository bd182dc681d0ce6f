// Shared pieces of the page: the message region (aria-live), in-page
// dialogs (native <dialog>, modal, closed by Escape) and copying text.

import { h, clear, uid } from './dom.js';

const MAX_MESSAGES = 4;

// Shows a message in `region` (the page's live region unless a dialog has
// its own). kind: 'ok' | 'error' | 'info'.
export function notify(kind, text, details = [], region = document.getElementById('messages')) {
  const dismiss = h('button', { type: 'button', class: 'link', text: 'Dismiss' });
  const item = h('div', { class: `message ${kind}` },
    h('p', { class: 'message-text' }, text),
    details.filter(Boolean).map((line) => h('p', { class: 'message-detail' }, line)),
    dismiss);
  if (kind === 'error') item.setAttribute('role', 'alert');
  dismiss.addEventListener('click', () => item.remove());
  dismiss.setAttribute('aria-label', `Dismiss message: ${text}`);
  region.prepend(item);
  while (region.children.length > MAX_MESSAGES) region.lastElementChild.remove();
  if (kind === 'ok' || kind === 'info') setTimeout(() => item.remove(), 8000);
  return item;
}

// An ApiError (or any error) as a message: what went wrong, how to fix it,
// the listed problems and the request id to find it in the server's log.
export function showError(err, region) {
  // A refused key is shown once, by the key form (app.js), not by every
  // request that was in flight.
  if (err.status === 401) return undefined;
  return renderError(err, region);
}

export function renderError(err, region) {
  const details = [];
  if (err.suggestedFix) details.push(`How to fix: ${err.suggestedFix}`);
  for (const problem of err.errors || []) details.push(`• ${problem}`);
  if (err.requestId) details.push(`Request id: ${err.requestId}`);
  return notify('error', err.message || String(err), details, region);
}

export function clearMessages(region = document.getElementById('messages')) {
  clear(region);
}

// Drops the success and info messages (kept: errors), on navigation.
export function clearNotices(region = document.getElementById('messages')) {
  for (const item of [...region.querySelectorAll('.message.ok, .message.info')]) item.remove();
}

// Opens a modal dialog titled `title` holding `content` (nodes) and a row
// of `actions` (buttons). Escape or close() closes it and gives the focus
// back to what had it (or to the element with the same data-fk key if a
// refresh replaced it). Returns {dialog, messages, close, closeButton}.
export function openDialog(title, content, actions = [], closeLabel = 'Close') {
  const opener = document.activeElement;
  const openerKey = opener && opener.dataset ? opener.dataset.fk : undefined;
  const titleId = uid('dialog-title');
  const messages = h('div', { class: 'messages', attrs: { 'aria-live': 'polite' } });
  const closeButton = h('button', { type: 'button', class: 'secondary', text: closeLabel });
  const dialog = h('dialog', { class: 'dialog', attrs: { 'aria-labelledby': titleId } },
    h('h2', { id: titleId, text: title }),
    messages,
    h('div', { class: 'dialog-body' }, content),
    h('div', { class: 'actions' }, actions, closeButton));
  const close = () => {
    if (dialog.open) dialog.close();
  };
  closeButton.addEventListener('click', close);
  dialog.addEventListener('close', () => {
    dialog.remove();
    let target = opener && opener.isConnected ? opener : null;
    if (!target && openerKey) target = document.querySelector(`[data-fk="${CSS.escape(openerKey)}"]`);
    // What opened it is gone (a deleted endpoint): the view's heading.
    if (!target) target = document.querySelector('#view h1');
    if (target) {
      if (target.tabIndex < 0 && !target.matches('a, button, input, select, textarea')) target.tabIndex = -1;
      target.focus();
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  const first = dialog.querySelector('input, select, textarea');
  if (first) first.focus();
  return { dialog, messages, close, closeButton };
}

// Asks to confirm a destructive action; resolves true or false. The focus
// starts on Cancel, so a stray Enter destroys nothing.
export function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    let answer = false;
    const confirm = h('button', { type: 'button', class: 'danger', text: confirmLabel });
    const { dialog, close, closeButton } = openDialog(title, [h('p', { text })], [confirm], 'Cancel');
    confirm.addEventListener('click', () => {
      answer = true;
      close();
    });
    dialog.addEventListener('close', () => resolve(answer));
    closeButton.focus();
  });
}

// Copies `text`; where the clipboard API is missing or refused (a plain
// http origin that is not localhost), shows it selected in a dialog.
export async function copyText(text, what) {
  try {
    if (!navigator.clipboard) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    notify('ok', `Copied ${what}.`);
  } catch {
    const area = h('textarea', { readOnly: true, rows: 6, value: text, class: 'copy-area' });
    area.setAttribute('aria-label', what);
    openDialog(`Copy ${what}`, [h('p', { text: 'The browser did not allow copying. Select the text and copy it yourself (Ctrl+C).' }), area]);
    area.focus();
    area.select();
  }
}

export function button(text, onClick, props = {}) {
  return h('button', { type: 'button', ...props, on: { click: onClick } }, text);
}

// Runs an async action, once at a time per button (marked aria-busy, not
// disabled, so it keeps the focus); errors are shown.
export async function busy(buttonEl, fn, region) {
  if (buttonEl && buttonEl.getAttribute('aria-busy') === 'true') return undefined;
  if (buttonEl) buttonEl.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } catch (err) {
    showError(err, region);
    return undefined;
  } finally {
    if (buttonEl) buttonEl.removeAttribute('aria-busy');
  }
}
