// The alert page's comforts; the page works without this file (its "Refresh the counts" link reloads it).
// - while messages are on their way, the delivery counts refresh every few seconds from the alert's progress page
//   (the same markup, read with DOMParser) inside the page's aria-live region, so screen readers hear the changes
//   politely; polling stops when nothing waits any more, or when the progress page cannot be read
const region = document.getElementById('progress-region')

async function poll (url) {
  try {
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
    const type = response.headers.get('Content-Type') || ''
    if (!response.ok || !type.includes('text/html')) return false
    const doc = new DOMParser().parseFromString(await response.text(), 'text/html')
    const fresh = doc.getElementById('progress-region')
    if (!fresh) return false // signed out meanwhile (the sign-in page came back): stop
    fresh.querySelectorAll('[data-count]').forEach((cell) => {
      const mine = region.querySelector(`[data-count="${cell.dataset.count}"]`)
      if (mine && mine.textContent !== cell.textContent) mine.textContent = cell.textContent
    })
    const note = region.querySelector('[data-progress-note]')
    const freshNote = fresh.querySelector('[data-progress-note]')
    if (note && freshNote && note.textContent !== freshNote.textContent) note.textContent = freshNote.textContent
    return fresh.dataset.sending === 'true'
  } catch (err) {
    return false
  }
}

if (region && region.dataset.sending === 'true' && window.fetch && window.DOMParser) {
  const url = region.dataset.progressUrl
  const seconds = Number(region.dataset.pollSeconds || 5)
  const tick = async () => {
    if (await poll(url)) setTimeout(tick, seconds * 1000)
  }
  setTimeout(tick, seconds * 1000)
}
