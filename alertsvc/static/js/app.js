// The console's comforts; every page works without this file.
// - govuk-frontend components (error summary focus, double-click prevention, ...)
// - the session-expiry warning: shown before the session ends; "Stay signed in" extends it in the background,
//   so nothing typed on the page is lost
// - window.alertsvc.postJSON: fetch with the page's CSRF token (every fetch carries it)
import { initAll } from '/static/vendor/govuk-frontend.min.js'

// What GOV.UK's template does in an inline script, done here so that no page carries inline script at all (its
// bytes are then the same for every visitor: public pages can be cached and answered 304 by ETag).
document.body.classList.add('js-enabled', 'govuk-frontend-supported')
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

  // A modal <dialog>: the rest of the page is inert while it is open, focus goes to its button and comes back
  // to where the user was typing when it closes (Escape closes it too, and the session is then left to end).
  function show () {
    if (dialog.open) return
    lastFocus = document.activeElement
    dialog.showModal()
    button.focus()
  }
  function hide () {
    if (dialog.open) dialog.close()
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
      meta.content = data.expires_at
      const shown = document.getElementById('session-ends')
      if (shown) {
        shown.dateTime = data.expires_at
        shown.textContent = new Date(expires).toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Belgrade' })
      }
      hide()
    } else {
      form.submit()
    }
  })
  dialog.addEventListener('close', () => {
    if (lastFocus && lastFocus.focus) lastFocus.focus()
  })
  setInterval(() => {
    const left = expires - Date.now()
    if (left <= warnMs && left > 0) show()
  }, 5000)
}

sessionWarning()

// Radios that reveal a follow-up question (macros/forms.html conditional_radios): only the chosen option's shows.
document.querySelectorAll('[data-reveal-group]').forEach((group) => {
  const radios = Array.from(group.querySelectorAll('input[type="radio"][data-reveals]'))
  const sync = () => radios.forEach((radio) => {
    const section = document.getElementById(radio.dataset.reveals)
    if (section) section.classList.toggle('govuk-radios__conditional--hidden', !radio.checked)
  })
  group.addEventListener('change', sync)
  sync()
})

