// Progressive enhancement: every page works without this file.
import { initAll } from '/static/govuk/govuk-frontend.min.js'

initAll()

// Progress: poll the stage and progress; reload once the job has finished (done or failed).
const progress = document.querySelector('[data-progress-url]')
if (progress && progress.dataset.finished === 'no') {
  const poll = async () => {
    try {
      const response = await fetch(progress.dataset.progressUrl, { headers: { Accept: 'application/json' } })
      if (!response.ok) return
      const state = await response.json()
      // a queued page has no percentage to update: show the running page once it starts
      if (state.finished || (progress.dataset.status === 'queued' && state.status !== 'queued')) {
        window.location.reload()
        return
      }
      const set = (id, text) => {
        const el = document.getElementById(id)
        if (el) el.textContent = text
      }
      set('stage-label', state.label)
      set('progress-percent', String(state.percent))
      if (state.eta) set('progress-eta', state.eta)
      const bar = document.getElementById('progress-bar')
      if (bar) bar.value = state.percent
    } catch (e) {
      // the next poll tries again
    }
    window.setTimeout(poll, 2000)
  }
  window.setTimeout(poll, 2000)
}

// Review: a statement's evidence link highlights its transcript lines and plays from the first.
// The transcript scrolls within its own box to the line, so the page keeps its place at the
// statement. Stacked under the note (a phone) the page stays there too, the practitioner
// listening where they read; beside it, the page moves only if the box is out of view.
const showInTranscript = (line, link) => {
  const box = line.closest('.app-transcript')
  const shown = box && box.getBoundingClientRect()
  const stacked = shown && shown.left < link.getBoundingClientRect().right
  if (!shown || (!stacked && (shown.top < 0 || shown.bottom > window.innerHeight))) {
    line.scrollIntoView({ block: 'nearest' })
    return
  }
  const at = line.getBoundingClientRect()
  if (at.top < shown.top || at.bottom > shown.bottom) box.scrollTop += at.top - shown.top - 10
}
const player = document.getElementById('visit-audio')
document.querySelectorAll('.app-evidence-link').forEach((link) => {
  link.addEventListener('click', (event) => {
    event.preventDefault()
    document.querySelectorAll('.app-highlight').forEach((el) => el.classList.remove('app-highlight'))
    const ids = (link.dataset.segments || '').split(' ').filter(Boolean)
    ids.forEach((id) => document.getElementById('seg-' + id)?.classList.add('app-highlight'))
    link.closest('.app-statement')?.classList.add('app-highlight')
    const first = document.getElementById('seg-' + ids[0])
    if (first) showInTranscript(first, link)
    if (player) {
      player.currentTime = parseFloat(link.dataset.start || '0')
      player.play().catch(() => {})
    }
  })
})

// Review: "Copy this section" puts the section's plain text (as the txt export writes it) on the
// clipboard; without JavaScript the button stays hidden and its plain-text link does the job.
const copyText = async (text) => {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text)
    return
  }
  // plain http on an intranet has no Clipboard API: the older way
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.appendChild(area)
  area.select()
  const ok = document.execCommand('copy')
  area.remove()
  if (!ok) throw new Error('copy refused')
}
document.querySelectorAll('.app-copy__button').forEach((button) => {
  button.hidden = false
  button.addEventListener('click', async () => {
    const status = document.getElementById(button.dataset.copyStatus)
    try {
      await copyText(button.dataset.copyText || '')
      if (status) status.textContent = 'Copied'
    } catch (e) {
      if (status) status.textContent = 'Could not copy: use the plain text link'
    }
  })
})

// New visit: a recording dropped on the drop zone becomes the file input's choice (the input
// itself still works alone: with the keyboard, or without this file).
document.querySelectorAll('[data-drop-zone]').forEach((zone) => {
  const input = zone.querySelector('input[type=file]')
  const status = zone.querySelector('[data-drop-status]')
  if (!input || !status) return
  const over = (on) => zone.classList.toggle('app-drop-zone--over', on)
  const show = () => {
    status.textContent = input.files && input.files.length ? `Chosen: ${input.files[0].name}` : ''
  }
  zone.addEventListener('dragover', (event) => {
    event.preventDefault()
    over(true)
  })
  zone.addEventListener('dragleave', () => over(false))
  zone.addEventListener('drop', (event) => {
    event.preventDefault()
    over(false)
    const files = event.dataTransfer ? event.dataTransfer.files : null
    if (!files || files.length === 0) return
    if (files.length > 1) {
      status.textContent = 'Drop one recording at a time.'
      return
    }
    input.files = files
    show()
  })
  input.addEventListener('change', show)
})
