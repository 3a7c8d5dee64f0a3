// The alert request page's comforts; the page works without this file (what is typed is what counts, and the next
// page draws the area from it on the server).
// - redraws the circle on its map as the centre and the radius are typed or picked on the map
// - a map revealed by choosing another kind of area is re-measured (Leaflet sizes a map when it is shown)
const figure = document.getElementById('alert-circle-map')
const fields = ['lat', 'lon', 'radius_km'].map((id) => document.getElementById(id))

function number (input) {
  const text = input.value.trim().replace(',', '.').replace('\u2212', '-')
  return text === '' ? NaN : Number(text)
}

// A circle of `km` around (lat, lon) as a GeoJSON polygon (72 points, a local flat approximation: a picture only).
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
  redraw()
}

document.querySelectorAll('input[name="area_kind"]').forEach((radio) => {
  radio.addEventListener('change', () => window.dispatchEvent(new Event('resize')))
})
