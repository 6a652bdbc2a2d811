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
      if (state.finished) {
        window.location.reload()
        return
      }
      const set = (id, text) => {
        const el = document.getElementById(id)
        if (el) el.textContent = text
      }
      set('stage-label', state.label)
      set('progress-percent', String(state.percent))
      if (state.eta_s) set('progress-eta', String(Math.ceil(state.eta_s / 60)))
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
const player = document.getElementById('visit-audio')
document.querySelectorAll('.app-evidence-link').forEach((link) => {
  link.addEventListener('click', (event) => {
    event.preventDefault()
    document.querySelectorAll('.app-highlight').forEach((el) => el.classList.remove('app-highlight'))
    const ids = (link.dataset.segments || '').split(' ').filter(Boolean)
    ids.forEach((id) => document.getElementById('seg-' + id)?.classList.add('app-highlight'))
    link.closest('.app-statement')?.classList.add('app-highlight')
    const first = document.getElementById('seg-' + ids[0])
    if (first) first.scrollIntoView({ block: 'nearest' })
    if (player) {
      player.currentTime = parseFloat(link.dataset.start || '0')
      player.play().catch(() => {})
    }
  })
})
