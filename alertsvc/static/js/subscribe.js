// The subscribe page's comforts; the page works without this file (the typed latitude, longitude and distance are
// what counts, and the server draws the circle after each send).
// - says the circle's map can be clicked (only when Leaflet made it clickable)
// - redraws the circle on that map as the latitude, longitude and distance are typed or picked
import { followCircle } from './circle.js'

const figure = document.getElementById('circle-map')
const hint = document.getElementById('circle-map-hint')
if (followCircle(figure, ['lat', 'lon', 'radius_km'], false) && hint && figure.getAttribute('data-map-ready') === 'true') {
  hint.hidden = false
}
