// A circle typed as centre and radius, drawn on its map as it is typed or picked (the subscribe page, the alert
// request page). What is typed is what counts; the server draws the circle again from it.

function number (input) {
  const text = input.value.trim().replace(',', '.').replace('\u2212', '-')
  return text === '' ? NaN : Number(text)
}

// A circle of `km` around (lat, lon) as a GeoJSON polygon (72 points; a local flat approximation, as on the server
// to within a fraction of a percent at these distances).
function circle (lat, lon, km) {
  const ring = []
  const dLat = km / 111.32
  const dLon = km / (111.32 * Math.cos(lat * Math.PI / 180))
  for (let i = 0; i <= 72; i++) {
    const a = (i % 72) * 2 * Math.PI / 72
    ring.push([lon + dLon * Math.cos(a), lat + dLat * Math.sin(a)])
  }
  return { type: 'Polygon', coordinates: [ring] }
}

// Redraw the circle of the inputs `ids` (latitude, longitude, radius in km) on `figure` (map.js's `app:area`
// event), a quarter of a second after the last keystroke. `now`: draw once at once too.
export function followCircle (figure, ids, now) {
  const fields = ids.map((id) => document.getElementById(id))
  if (!figure || !fields.every(Boolean)) return false
  const [lat, lon, radius] = fields
  let timer = null
  const redraw = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      const [a, b, r] = [number(lat), number(lon), number(radius)]
      const ok = Math.abs(a) <= 90 && Math.abs(b) <= 180 && r > 0 && r <= 500
      figure.dispatchEvent(new CustomEvent('app:area', { detail: ok ? circle(a, b, r) : null }))
    }, 250)
  }
  fields.forEach((input) => input.addEventListener('input', redraw))
  if (now) redraw()
  return true
}
