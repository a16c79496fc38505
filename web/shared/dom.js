// Building and showing elements, for both pages. Text is always set with textContent: nothing is parsed as HTML.

/**
 * Create an element. props: `text` sets textContent, `i18n` sets data-i18n (filled by translateDom),
 * `on<event>` with a function adds a listener, anything else becomes an attribute (skipped when null,
 * undefined or false; true gives an empty attribute). Null and undefined children are skipped.
 */
export function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'text') element.textContent = value;
    else if (name === 'i18n') element.dataset.i18n = value;
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

export function show(element, visible) {
  element.hidden = !visible;
}

/** Show an error text in an element (role="alert"), or hide it when text is empty. */
export function showError(element, text) {
  element.textContent = text || '';
  element.hidden = !text;
}
