/**
 * What the schedule file's warning says of a session whose entry can't be served but still names it, when the app has
 * read no good entry for it since it started (held as the entry kept in storage, else not shown).
 */
export const HELD =
  'the session is held: this run of the app has read no good entry for it, so it is served as the app last kept it good (not open to new bookings) or, if none was kept, not shown (no booking, reminder or agenda); its bookings stand and nobody is told it is cancelled until the entry is fixed or the session is taken out of the file; the rest of the schedule is served';

/** …and when the app had a good entry for it before: served as it last was. */
export const HELD_AS_WAS =
  'the session is held: served as it last was (its bookings, reminders, agenda and calendar entries go on, and a seat can be cancelled) but not open to new bookings, and nobody is told anything, until the entry is fixed or the session is taken out of the file; the rest of the schedule is served';
