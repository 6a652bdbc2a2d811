// Set before the page renders, as GOV.UK Frontend expects (its inline snippet, moved to a file
// so the content policy can forbid inline scripts).
document.body.className +=
  ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '')
