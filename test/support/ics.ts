import ICAL from 'ical.js';

/** The first event of a calendar file, read with an independent iCalendar parser (its own VTIMEZONEs registered). */
export function parseIcsEvent(text: string): ICAL.Event {
  const comp = new ICAL.Component(ICAL.parse(text));
  for (const tz of comp.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  return new ICAL.Event(comp.getFirstSubcomponent('vevent') as ICAL.Component);
}
