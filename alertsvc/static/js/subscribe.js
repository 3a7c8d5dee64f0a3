// The subscribe page's comforts; the page works without this file (the typed latitude, longitude and distance are
// what counts, and the server draws the circle after each send).
// - shows only the follow-up questions of the chosen options (channel: the phone or email field; area: the districts
//   or the circle); without JavaScript all of them stay visible
// - says the circle's map can be clicked (only when Leaflet made it clickable)
// - redraws the circle on that map as the latitude, longitude and distance are typed or picked
const figure = document.getElementById('circle-map')
const hint = document.getElementById('circle-map-hint')
const fields = ['lat', 'lon', 'radius_km'].map((id) => document.getElementById(id))

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

if (figure && fields.every(Boolean)) {
  if (hint && figure.getAttribute('data-map-ready') === 'true') {
    hint.hidden = false
  }
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
}
