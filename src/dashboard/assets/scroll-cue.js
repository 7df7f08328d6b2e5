// Tells a horizontally scrolling box's reader that there is more to either side: `data-more` on the box names the
// sides ("left", "right", "left right"); the style sheet fades those edges. Kept current on scroll and resize.

function update(box) {
  const more = [];
  if (box.scrollLeft > 1) more.push('left');
  if (box.scrollLeft + box.clientWidth < box.scrollWidth - 1) more.push('right');
  const value = more.join(' ');
  if (box.dataset.more !== value) box.dataset.more = value;
}

/** Watches `box` (its size and its content's size); returns a function to call after its content changes. */
export function scrollCue(box) {
  const refresh = () => update(box);
  box.addEventListener('scroll', refresh, { passive: true });
  const observer = new ResizeObserver(refresh);
  observer.observe(box);
  if (box.firstElementChild) observer.observe(box.firstElementChild);
  refresh();
  return refresh;
}
