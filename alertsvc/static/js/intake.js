// intake.js: the case form's criteria panel follows the typing (the intake and edit-facts pages).
// The page works without it: "Check criteria" posts the form and the server fills the panel. With it, the facts
// typed so far go, shortly after each change, to POST /api/v1/criteria/evaluate (the API's CaseFactsIn: every
// field optional; nothing is stored) and the panel shows each criterion's verdict and reason.
//
// The facts are built as the server builds them from the form (alertsvc/web/case_forms.py): the age as a whole
// number, date + time read in Europe/Belgrade, the coordinates typed (a decimal comma is fine) or else the chosen
// district's representative point (its <option data-lat data-lon>), tri-state radios as true/false/absent.
// Nothing about the reporter is sent: no criterion reads it.
// Markup: <form data-intake> holding <section data-criteria-panel data-url data-verdict-labels data-verdict-tags
// data-label-*> with [data-criteria-summary], [data-criteria-status], <li data-criterion> items holding
// [data-verdict] and [data-reason], and [data-no-js].

const DEBOUNCE_MS = 700
const ZONE = 'Europe/Belgrade'
const SHORT = 200 // the API's text limits (schemas.py): a check never fails on length, the open form says it
const LONG = 2000
const PLATE = 20
const TRI_STATE = { yes: true, no: false }

const form = document.querySelector('form[data-intake]')
const panel = form ? form.querySelector('[data-criteria-panel]') : null
const post = window.alertsvc && window.alertsvc.postJSON

if (form && panel && post) {
  enhance()
}

function enhance () {
  const labels = panel.dataset
  const verdictLabels = parseJSON(labels.verdictLabels)
  const verdictTags = parseJSON(labels.verdictTags)
  const summary = panel.querySelector('[data-criteria-summary]')
  const status = panel.querySelector('[data-criteria-status]')
  const noJs = panel.querySelector('[data-no-js]')
  if (noJs) noJs.hidden = true
  let timer = null
  let sent = 0

  function setText (element, text) {
    if (element && element.textContent !== text) element.textContent = text // unchanged text is not re-announced
  }

  function show (data) {
    setText(summary, data.met ? labels.labelMetAll : labels.labelNotMetAll)
    setText(status, `${labels.labelCheckedAt} ${clock(data.evaluated_at)}`)
    for (const result of data.results || []) {
      const item = Array.from(panel.querySelectorAll('[data-criterion]'))
        .find((el) => el.dataset.criterion === result.criterion)
      if (!item) continue
      const tag = item.querySelector('[data-verdict]')
      if (tag) {
        setText(tag, verdictLabels[result.verdict] || result.verdict)
        tag.className = `govuk-tag app-verdict-tag ${verdictTags[result.verdict] || 'govuk-tag--grey'}`
      }
      setText(item.querySelector('[data-reason]'), result.reason || '')
    }
  }

  async function check () {
    timer = null
    const mine = ++sent
    setText(status, labels.labelChecking)
    let answer
    try {
      answer = await post(panel.dataset.url, facts())
    } catch (err) {
      answer = { ok: false, status: 0, data: null }
    }
    if (mine !== sent) return // a newer check is on its way
    if (answer.ok && answer.data) {
      show(answer.data)
    } else if (answer.status === 422 && answer.data && Array.isArray(answer.data.errors)) {
      const fields = answer.data.errors.map((e) => `${e.field}: ${e.message}`).join('; ')
      setText(status, `${labels.labelInvalid} ${fields}`)
    } else {
      setText(status, labels.labelFailed)
    }
  }

  function later () {
    if (timer) clearTimeout(timer)
    timer = setTimeout(check, DEBOUNCE_MS)
  }

  function changed (event) {
    const name = event.target && event.target.name
    if (!name || name.startsWith('reporter_') || name === 'csrf_token' || name === 'revision') return
    later()
  }

  form.addEventListener('input', changed)
  form.addEventListener('change', changed)
  const button = panel.querySelector('button[name="action"][value="check"]')
  if (button) {
    button.addEventListener('click', (event) => {
      event.preventDefault() // the same check, without leaving the page
      if (timer) clearTimeout(timer)
      check()
    })
  }
  check()
}

// --- the form as the API's CaseFactsIn --------------------------------------------------------------------------
function field (name) {
  const element = form.elements.namedItem(name)
  return element && typeof element.value === 'string' ? element.value.trim() : ''
}

function facts () {
  const body = {}
  const put = (section, key, value) => {
    if (value === undefined || value === null || value === '') return
    body[section] = body[section] || {}
    body[section][key] = value
  }
  const age = field('child_age')
  if (/^\d{1,3}$/.test(age)) put('child', 'age', Number(age))
  put('child', 'name', field('child_name').slice(0, SHORT))
  if (['f', 'm', 'x'].includes(field('child_sex'))) put('child', 'sex', field('child_sex'))
  put('child', 'description', field('child_description').slice(0, LONG))

  put('last_seen', 'at', belgradeTime(field('last_seen_date'), field('last_seen_time')))
  const point = typedPoint() || districtPoint()
  if (point) {
    put('last_seen', 'lat', point[0])
    put('last_seen', 'lon', point[1])
  }
  put('last_seen', 'place', field('last_seen_place').slice(0, SHORT))

  for (const [section, key] of [['circumstances', 'abduction_suspected'], ['circumstances', 'abduction_witnessed'],
    ['circumstances', 'imminent_danger'], ['circumstances', 'medical_or_disability'], ['police', 'confirmed']]) {
    const given = field(`${section}_${key}`)
    if (given in TRI_STATE) put(section, key, TRI_STATE[given])
  }
  put('circumstances', 'suspect', field('circumstances_suspect').slice(0, LONG))
  put('circumstances', 'vehicle', field('circumstances_vehicle').slice(0, SHORT))
  put('circumstances', 'plate', field('circumstances_plate').slice(0, PLATE))
  put('police', 'reference', field('police_reference').slice(0, SHORT))
  return body
}

function coordinate (text) {
  if (!text) return null
  const value = Number(text.replace(/°$/, '').replace(',', '.').replace('\u2212', '-'))
  return Number.isFinite(value) ? value : null
}

function typedPoint () {
  const lat = coordinate(field('last_seen_lat'))
  const lon = coordinate(field('last_seen_lon'))
  return lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? [lat, lon] : null
}

function districtPoint () {
  const select = form.elements.namedItem('last_seen_district')
  const option = select && select.selectedOptions ? select.selectedOptions[0] : null
  if (!option || !option.value) return null
  const lat = Number(option.dataset.lat)
  const lon = Number(option.dataset.lon)
  return Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null
}

// --- Belgrade time ---------------------------------------------------------------------------------------------
function pad (n) {
  return String(n).padStart(2, '0')
}

// Minutes Belgrade is ahead of UTC at the instant `ms`.
function zoneOffset (ms) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit'
  }).formatToParts(new Date(ms))
  const get = (type) => Number(parts.find((p) => p.type === type).value)
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'))
  return Math.round((wall - ms) / 60000)
}

// "2026-11-23" (or "23.11.2026") and "14:30" read in Belgrade, as RFC 3339 with the offset; null when not a time.
function belgradeTime (dateText, timeText) {
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(dateText)
  const local = /^(\d{1,2})\s*\.\s*(\d{1,2})\s*\.\s*(\d{4})\.?$/.exec(dateText)
  const t = /^(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?$/.exec(timeText)
  if (!(iso || local) || !t) return null
  const [y, mo, d] = iso ? [iso[1], iso[2], iso[3]].map(Number) : [local[3], local[2], local[1]].map(Number)
  const [h, mi, s] = [t[1], t[2], t[3] || '0'].map(Number)
  const wall = Date.UTC(y, mo - 1, d, h, mi, s)
  const check = new Date(wall)
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1 || h > 23 || mi > 59 || s > 59) return null
  try {
    let offset = zoneOffset(wall)
    offset = zoneOffset(wall - offset * 60000) // the offset in force at that wall time (summer time changes)
    const sign = offset < 0 ? '-' : '+'
    const abs = Math.abs(offset)
    return `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  } catch (err) {
    return null // no time zone data in this browser: the server-side check still works
  }
}

function clock (iso) {
  try {
    return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      timeZone: ZONE, hourCycle: 'h23', hour: '2-digit', minute: '2-digit'
    }).format(new Date(iso))
  } catch (err) {
    return ''
  }
}

function parseJSON (text) {
  try {
    return JSON.parse(text || '{}')
  } catch (err) {
    return {}
  }
}
