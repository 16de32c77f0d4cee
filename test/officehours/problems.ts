/** What the schedule file's warning says of a session whose entry can't be served but still names it (held as it was). */
export const HELD =
  'the session is held as it was: not offered for booking, its bookings stand and nobody is told it is cancelled until the entry is fixed or the session is taken out of the file; the rest of the schedule is served';
