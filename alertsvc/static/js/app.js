// The console's comforts; every page works without this file.
// - govuk-frontend components (error summary focus, double-click prevention, ...)
// - the session-expiry warning: shown before the session ends; "Stay signed in" extends it in the background,
//   so nothing typed on the page is lost
// - window.alertsvc.postJSON: fetch with the page's CSRF token (every fetch carries it)
import { initAll } from '/static/vendor/govuk-frontend.min.js'

initAll()

const csrfMeta = document.querySelector('meta[name="csrf-token"]')

export async function postJSON (url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'X-CSRFToken': csrfMeta ? csrfMeta.content : ''
    },
    body: JSON.stringify(body)
  })
  const data = await response.json().catch(() => null)
  return { ok: response.ok, status: response.status, data }
}

window.alertsvc = Object.assign(window.alertsvc || {}, { postJSON })

function sessionWarning () {
  const meta = document.querySelector('meta[name="session-expires"]')
  const dialog = document.getElementById('session-warning')
  if (!meta || !dialog) return
  let expires = Date.parse(meta.content)
  const warnMs = Number(meta.dataset.warnSeconds || 300) * 1000
  let lastFocus = null
  const form = dialog.querySelector('form[data-extend-session]')
  const button = form.querySelector('button')

  function show () {
    if (!dialog.hidden) return
    lastFocus = document.activeElement
    dialog.hidden = false
    button.focus()
  }
  function hide () {
    dialog.hidden = true
    if (lastFocus && lastFocus.focus) lastFocus.focus()
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const response = await fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRFToken': csrfMeta ? csrfMeta.content : '' }
    })
    if (response.ok) {
      const data = await response.json()
      expires = Date.parse(data.expires_at)
      hide()
    } else {
      form.submit()
    }
  })
  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') hide()
  })
  setInterval(() => {
    const left = expires - Date.now()
    if (left <= warnMs && left > 0) show()
  }, 5000)
}

sessionWarning()
