// Building DOM nodes. Every string goes in as text (textContent), never as markup: prompts and outputs are untrusted.

/**
 * el('span', {class: 'badge', text: 'ok', data: {status: 'ok'}, attrs: {title: '…'}, style: {width: '40%'}, on: {click}}, ...children)
 * Children may be nodes, strings (inserted as text), or null/false (skipped).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  for (const [key, value] of Object.entries(props.data ?? {})) node.dataset[key] = String(value);
  // Through the CSSOM: the page's CSP forbids inline style attributes.
  for (const [key, value] of Object.entries(props.style ?? {})) node.style.setProperty(key, value);
  for (const [key, value] of Object.entries(props.attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const [type, handler] of Object.entries(props.on ?? {})) node.addEventListener(type, handler);
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces a node's children. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

export const byId = (id) => document.getElementById(id);

/** A status badge: pending, in_progress, completed… or a worker's idle, busy… */
export function badge(status, label = statusLabel(status)) {
  return el('span', { class: 'badge', text: label, data: { status } });
}

const LABELS = { in_progress: 'running' };
export const statusLabel = (status) => LABELS[status] ?? status;
