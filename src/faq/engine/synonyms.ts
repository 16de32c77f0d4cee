import { normalize, stem, words } from './text.js';

/**
 * General-English groups of words that people use for the same thing when asking for help
 * with software: the everyday word next to the word manuals use ("wipe" / "reset", "pic" /
 * "image", "fix" / "edit"). Deliberately generic: nothing here names a product, and nothing
 * was written for a particular question. Multi-word entries are phrases ("log in").
 * Each line is one group; every member expands to every other member at reduced weight.
 */
const GROUPS = `
remove, delete, erase, clear, wipe, discard, get rid of, trash, undo, take away
restore, recover, undelete, bring back, get back, retrieve, recovery, undo
fix, correct, edit, change, modify, amend, update, adjust, rectify, mistake, typo
mistake, error, wrong, incorrect, accidentally, by accident, typo
picture, photo, image, pic, photograph, snapshot, camera
video, movie, clip
sound, audio, voice
phone, device, tablet, mobile, smartphone, handset, android
computer, laptop, desktop, pc
crash, quit, close, closes, shut down, force close, stops working, freeze, hang, unexpectedly
slow, lag, delay, takes forever, forever, long time, performance
stuck, frozen, freeze, hang, blocked, cannot proceed
log in, login, sign in, signin, credentials, account, username, password
log out, logout, sign out
website, web, browser, site, online, webpage, web page, portal
internet, connection, connectivity, network, signal, online, wifi, data bundle
offline, no internet, no signal, no connection, no network, disconnected, without internet, without connection, without signal, without network
tick, check, select, choose, pick, mark, checkbox
option, choice, answer, response, alternative
question, field, item, prompt
answer, response, value, entry, input
send, submit, upload, sync, synchronize, transmit, push
download, fetch, get, pull, retrieve
see, view, show, display, appear, visible, shown, look
hide, hidden, invisible, conceal, skip
skip, jump, bypass, conditional, only if, unless
disable, disabled, grey, gray, greyed out, inactive, turn off, switch off
enable, enabled, turn on, switch on, activate, allow
keep, save, store, retain, preserve
continue, resume, carry on, pick up, later, tomorrow
die, died, dies, dead, death, deceased, passed away, pass away
halfway, partially, partial, incomplete, unfinished, midway, in the middle
finished, complete, completed, done, finalized, final, finalize
reset, default, defaults, factory, start over, from scratch, original
access, permission, permissions, role, roles, rights, privilege
administrator, admin, superuser, manager, owner
user, account, person, member, staff, colleague
staff, worker, employee, team, collector, volunteer, field worker
supervisor, manager, lead, coordinator, reviewer
survey, questionnaire, form, instrument, checklist
record, submission, entry, response, case, interview
interview, visit, session, encounter
list, table, spreadsheet, sheet, excel, csv, roster
import, bulk, upload, load, batch, mass
export, download, extract, dump
map, location, gps, coordinates, position, geographic, geographically, place
accuracy, precision, precise, accurate
language, translation, translate, translated, multilingual, english
storage, space, memory, disk, full, capacity
big, large, huge, heavy, long, many, lots, size
small, tiny, little, short, reduce, shrink, compress, smaller, size
many, multiple, several, bulk, all, every, batch
automatic, automatically, auto, by itself, itself
manual, manually, by hand
lost, lose, loose, missing, disappeared, gone, vanished, not showing, doesnt show, doesnt appear, not appearing, cant find, cannot find
problem, issue, error, bug, fault, trouble, not working, broken, failed, failure
warning, alert, message, notification, popup, prompt, banner
broken, corrupt, corrupted, damaged, torn, invalid, unreadable
required, mandatory, compulsory, obligatory, must, needed
optional, not required
protect, lock, secure, password, restrict, prevent, block, stop, locked
limit, restrict, restriction, constrain, constraint, validate, validation, only allow
share, link, public, anonymous, invite
copy, transfer, move, duplicate, cable, usb
date, day, calendar, today, birthday
time, hour, clock, timestamp
count, number, total, sum, tally, how many, calculate
color, colour, font, style, bold, format, formatting
version, update, upgrade, latest, newer, new version, outdated
old, previous, earlier, last, prior, archived
archive, archived, retire, old, inactive, hide
register, registration, enrol, enroll, sign up, create, add
follow up, follow-up, followup, revisit, repeat visit, return visit
household, family, home, house
child, children, kid, kids, baby
address, village, district, region, area, site, community
repeat, loop, again, each, every, roster
search, find, look up, filter, type to find, autocomplete
sort, order, arrange
print, printout, paper, pdf
secret, encrypt, encryption, encrypted, private, privacy, confidential, sensitive
fake, spoof, mock, cheat, falsify, fabricate
quietly, silently, background, without notice, hidden
record, capture, collect, gather
number, phone number, digits, numeric, integer
scan, barcode, qr, qr code, code
name, title, label, caption
page, screen, view, tab
button, icon, menu, tap, click, press
setting, settings, configuration, configure, preference, preferences, option, setup, set up
install, installation, download, setup, set up, get the app
update, upgrade, newer, latest, refresh, sync
test, try, preview, draft, trial, practice, pilot
publish, release, go live, deploy, live
translate, language, localize
help, support, contact, assistance
forgot, forgotten, reset, recover, lost
account, profile, user account
sync, synchronise, synchronize, refresh, update
duplicate, twice, double, repeated, copy
merge, combine, join
split, separate, divide
rename, name, title
move, transfer, migrate, relocate
notify, notification, alert, reminder, email
schedule, timeline, deadline, due date
report, summary, dashboard, overview, statistics, analysis, chart
approve, approval, review, verify, accept
reject, decline, deny, refuse
comment, note, remark, feedback
attach, attachment, upload, file
blank, empty, nothing
scroll, swipe, navigate, next, previous, move between
dropdown, drop down, pick list, picklist, select, choices
checkbox, tick box, multiple choice, select multiple
single choice, select one, radio button
signature, sign, signed
battery, power, charge
uninstall, remove the app, delete the app
invite, add user, new user, onboard, give access
deactivate, revoke, block, remove access, cut off, suspend, ban, kick out
reactivate, restore access, unblock
archive, close, retire, deactivate, get rid of, clean up, tidy
training, learn, tutorial, guide, practice
history, log, audit, activity, track, trail, who changed
duration, how long, time spent, timing, timestamp
backup, back up, save a copy, export
sms, text message
calculation, formula, compute, calculate
condition, rule, logic, depends on, based on, only if, unless, conditional
range, between, minimum, maximum, min, max, at least, at most, up to
prefill, pre-fill, prepopulate, pre-populate, autofill, auto-fill, remember, default value
filter, narrow down, only show, cascade, cascading, depends on
link, url, web address, address bar
server, backend, cloud, platform
read-only, view only, viewer, read only, look but not change
anyone, public, anonymous, without login, without an account, no login, open link
not working, doesnt work, does not work, fails, failed, broken
greyed out, cannot click, cant click, unclickable, disabled
widget, question type, field type, input type, input box, control
fill, fill in, fill out, enter, key in, type in, capture
custom, customize, customise, personalize, tailor, own
geopoint, gps point, point, coordinates, location
geotrace, line, path, route, track, trail, walk
geoshape, polygon, boundary, plot, perimeter, area
media, photos, audio, video, attachments, files
conflict, conflicts, clash, overwrite, overwritten, collision, two people edited
troubleshoot, troubleshooting, problem, issue, not working, error
random, randomize, randomise, randomizing, shuffle, lottery
auto advance, autoadvance, go to next automatically, skip to next
selfie, front camera, own face, photo of myself
annotate, annotation, draw on, mark up, sketch on
draw, drawing, sketch, doodle
portrait, landscape, orientation, rotate, rotation, sideways
restart, reboot, turn off and on, power off, switch off and on
mirror, mirroring, screen share, cast, show the phone screen, project the screen
basemap, base map, background map, offline map, map tiles, satellite
certificate, ssl, https, secure connection, tls
decimal, decimals, fraction, decimal point
masking, masked, hide the characters, hidden characters
thousands separator, thousands, comma in numbers, digit grouping
encoding, utf-8, special characters, strange characters, garbled, gibberish, question marks
counter, increment, count up, tally, clicker
status, state, progress, stage
metadata, device id, start time, end time, audit
external, outside, third party, another app, other app
intent, launch, open another app, call another app
sensor, thermometer, scale, bluetooth device, external device
template, starter, example file, sample form, boilerplate
tutorial, walkthrough, step by step, getting started, beginner
reference, lookup, look up, cheat sheet, quick reference
troubleshooting, known issues, faq, common problems
hint, help text, instructions, guidance, explanation, tip
appearance, layout, look, display style, style
relevant, relevance, skip logic, display logic, branching, branch
group, section, module, block, part
quality check, quality control, qc, back check, spot check, review
api, integration, programmatically, script, automate
project, programme, program, study, campaign, round
font size, text size, bigger text, larger text, zoom
theme, dark mode, night mode
preload, pre-load, pull data, pulldata, existing data, previous data, lookup
hidden, hidden field, background value, invisible
distance, how far, proximity, radius, nearby
age, date of birth, dob, years old
unique, uuid, identifier, id, key
longitudinal, follow up, repeated visits, panel, cohort, over time
outbox, pending, queued, waiting to send, not sent, unsent, stuck in outbox
access denied, permission denied, not authorized, unauthorized, forbidden, not allowed, permission
select all that apply, more than one answer, several answers, multiple answers, select multiple
mfa, multi-factor, two-factor, 2fa, authenticator, authentication app, verification code, one-time code
course, courses, class, classes, workshop, training session, lesson
figures, numbers, totals, values, indicators
mismatch, dont match, doesnt match, different, differ, discrepancy, inconsistent, not the same
historical, history, past, previous years, back data, old data
email, e-mail, mail, inbox, message, invitation
sms, text message, texting, texts, text app, messaging app
mirror, projector, big screen, beamer
shortcut, icon, home screen, launcher, desktop icon
regex, regular expression, pattern, format check, input mask
hash, anonymize, anonymise, pseudonymize, pseudonymise, de-identify, scramble
markdown, asterisk, asterisks, stars, italics, italic, escape
month and year, month only, year only
epoch, milliseconds, unix time, timestamp, timestamps
vulnerability, security hole, security bug, security issue, exploit, disclosure
migrate, migration, move over, copy across, transfer to a new server
free text, open ended, open-ended, long answer, comments box, text box, text
stolen, stole, steal, theft, thief, robbed, mugged, lost
chart, charts, graph, graphs, plot, plots, visualisation, visualization
consent, permission, agree, agreement, agreed
escalate, escalation, chase, no response, no reply, nobody answered, not moving
urgent, priority, emergency, critical, asap
late, overdue, missed the deadline, after the deadline, past the deadline, behind schedule
locked, locked out, wont let me in, cant get in, too many attempts, too many times
`;

/**
 * Word families the Porter stemmer keeps apart ("submit" / "submission", "admin" /
 * "administrator"): people ask with the verb or the short form, manuals write the noun or
 * the long form. Matched at nearly full weight, unlike the looser groups above.
 */
export const VARIANTS = `
submit, submission, submitted, submitting
permit, permission
admit, admission
transmit, transmission
register, registration, registered
admin, administrator, administration, administer
decide, decision
divide, division
include, inclusion
exclude, exclusion
revise, revision
provide, provision
describe, description
subscribe, subscription
receive, receipt, reception
apply, application
verify, verification
notify, notification
specify, specification
modify, modification
identify, identification, id
explain, explanation
maintain, maintenance
retain, retention
announce, announcement
reduce, reduction
produce, production
introduce, introduction
destroy, destruction
compare, comparison
repeat, repetition
define, definition
deliver, delivery
recover, recovery
fail, failure
sign, signature
photo, photograph
info, information
app, application
config, configuration, configure
auto, automatic, automatically
pic, picture
doc, document, documentation
stat, statistic, statistics
calc, calculate, calculation
prefs, preferences
steal, stole, stolen
`;

export type Relation = 'variant' | 'related';

export interface SynonymTable {
  /** Stemmed content term → related stemmed terms (never itself), each with how they relate. */
  byTerm: Map<string, Map<string, Relation>>;
  /** Multi-word entries as stemmed raw-word sequences (stop words kept: "get back") → related terms. */
  byPhrase: { words: string[]; related: Map<string, Relation> }[];
}

/** Every word of a text, stemmed, stop words kept: phrases like "get back" are made of them. */
export function rawStems(text: string): string[] {
  return normalize(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0)
    .map(stem);
}

/**
 * Builds the lookup; entries are stemmed the same way as the index. `extra` groups (the
 * organisation's glossary) are exact equivalents, linked like word families.
 */
export function buildSynonymTable(
  groups: string = GROUPS,
  variants: string = VARIANTS,
  extra: readonly (readonly string[])[] = [],
): SynonymTable {
  const byTerm = new Map<string, Map<string, Relation>>();
  const phrases = new Map<string, { words: string[]; related: Map<string, Relation> }>();
  const link = (target: Map<string, Relation>, term: string, relation: Relation) => {
    // A variant link is the stronger one; never let a looser group downgrade it.
    if (target.get(term) !== 'variant') target.set(term, relation);
  };
  const lines = (source: string) => source.split('\n').map((line) => line.split(','));
  for (const [source, relation] of [
    [lines(groups), 'related'],
    [lines(variants), 'variant'],
    [extra, 'variant'],
  ] as const) {
    for (const line of source) {
      const entries = line
        .map((entry) => ({ raw: rawStems(entry), content: words(entry).map(stem) }))
        .filter((entry) => entry.raw.length > 0);
      if (entries.length < 2) continue;
      for (const entry of entries) {
        const related = new Set<string>();
        for (const other of entries)
          for (const term of other.content) if (!entry.content.includes(term)) related.add(term);
        if (related.size === 0) continue;
        // A code such as "K-05" is one term ("k05") though written as two raw words.
        const single = entry.raw.length === 1 || (entry.content.length === 1 && /\d/.test(entry.content[0]!));
        if (single) {
          // A single stop word ("all", "must") carries no topic of its own: don't expand it.
          const term = entry.content[0];
          if (term === undefined) continue;
          const map = byTerm.get(term) ?? new Map<string, Relation>();
          for (const r of related) link(map, r, relation);
          byTerm.set(term, map);
        } else {
          const key = entry.raw.join(' ');
          const phrase = phrases.get(key) ?? { words: entry.raw, related: new Map<string, Relation>() };
          for (const r of related) link(phrase.related, r, relation);
          phrases.set(key, phrase);
        }
      }
    }
  }
  return { byTerm, byPhrase: [...phrases.values()] };
}
