// The alert request page's comforts; the page works without this file (what is typed is what counts, and the next
// page draws the area from it on the server).
// - redraws the circle on its map as the centre and the radius are typed or picked on the map
// - a map revealed by choosing another kind of area is re-measured (Leaflet sizes a map when it is shown)
import { followCircle } from './circle.js'

followCircle(document.getElementById('alert-circle-map'), ['lat', 'lon', 'radius_km'], true)

document.querySelectorAll('input[name="area_kind"]').forEach((radio) => {
  radio.addEventListener('change', () => window.dispatchEvent(new Event('resize')))
})
