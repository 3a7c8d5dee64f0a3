// The public alert page's comforts; the page works without this file (its link can be copied by hand).
// Adds "Share" (the phone's share sheet, where the browser has one) and "Copy the link" buttons, with a polite
// status once copied. Labels come translated from the data-label-* attributes of #share-actions.
const box = document.getElementById('share-actions')
const link = document.getElementById('share-link')

function button (label, onClick) {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = 'govuk-button govuk-button--secondary'
  b.textContent = label
  b.addEventListener('click', onClick)
  return b
}

if (box && link) {
  const url = link.href
  const group = document.createElement('div')
  group.className = 'govuk-button-group'
  const status = document.createElement('p')
  status.className = 'govuk-body'
  status.setAttribute('role', 'status')
  if (navigator.share) {
    group.appendChild(button(box.dataset.labelShare || 'Share', () => {
      navigator.share({ title: document.title, url }).catch(() => {})
    }))
  }
  if (navigator.clipboard && window.isSecureContext) {
    group.appendChild(button(box.dataset.labelCopy || 'Copy the link', async () => {
      try {
        await navigator.clipboard.writeText(url)
        status.textContent = box.dataset.labelCopied || 'Copied'
      } catch (err) {
        window.getSelection().selectAllChildren(link)
      }
    }))
  }
  if (group.childElementCount) {
    box.appendChild(group)
    box.appendChild(status)
  }
}
