import { containsSequence } from './query.js';
import { normalize } from './text.js';

/**
 * Everyday workplace topics that a rollout's support channel is asked about but that guidance for an
 * information system does not cover: HR and pay, travel and expenses, office IT, facilities, other
 * tools and other systems' figures, small talk. Deliberately general (nothing names a product being
 * rolled out); one topic per line, comma-separated, multi-word entries are phrases.
 *
 * Such a word in a question is the question's topic, so the section that answers must speak of it
 * too: when the best section doesn't contain it, the question is about something else that merely
 * shares the docs' generic words ("form", "submit", "field", "report", "month"). When the guidance
 * does cover the topic (a page about working offline mentions the office Wi-Fi), the section holds
 * the word and nothing changes.
 *
 * Left out on purpose: words that set the scene of an answerable question rather than name its
 * topic ("my contract ends, what do I do with the tablet", "left the form open over lunch", "show the
 * phone on a projector", "sent on WhatsApp", "on my laptop"), and words a survey asks households about
 * (fuel, spending, budget, drinking water, fridge, lights, promotion), since staff ask how to build
 * forms about exactly those: only their workplace phrases are topics ("fuel advance", "project budget").
 * The same holds for pay, travel, IT and channel words a survey or a data collector's question uses
 * (salary, receipts, taxi, hotel, airtime, mobile money, mobile network, Google Forms, Facebook, dinner,
 * printer, keyboard, zoom, toilet, building, weather, a "good morning" before the question): "can
 * enumerators photograph receipts", "the tablet has no mobile network", "zoom in on the map" are ODK
 * questions, so only phrases such as "airtime claim", "receipts for my per diem", "taxi claim",
 * "office printer" or "my salary" are listed.
 */
const WORKPLACE_TOPICS = `
parental leave, unpaid leave, study leave, leave application, vacation, vacation days, time off, day off, sick note, doctor's note, public holiday, public holidays, annual leave, sick leave, maternity leave, paternity leave, compassionate leave, leave days, days of leave, leave request, leave balance, unused leave, carry over leave, days off, holiday entitlement, sick days, job description, hiring, reference letter, recommendation letter, certificate of employment, work permit, salary scale, salary slip, overtime pay, night shift, team building, staff retreat, christmas party, staff party, office party, end of year party, job application, job vacancy, vacancies, bank holiday, national holiday, independence day, office closed, casual leave, home leave, leave approval, cv, salary increase, sick pay, medical claim
payday, pay rise, pay raise, salary advance, p60, p45, tax certificate, tax return, gratuity, severance, payslip, pay slip, payroll, tax code, income tax, bank details, bank account details, my salary, salary payment, my wages, my pension, my bonus, staff pension, pension scheme
life insurance, staff benefits, medical cover, resignation letter, disciplinary, training budget, project budget, budget line, budget code, line manager, staff id, id badge, access card, business cards, dress code, medical insurance, health insurance, staff insurance, contract renewal, contract renewals, appraisal, performance review, recruitment, vacancy, notice period, probation, employment letter, emergency contact, hr system, hr focal point, human resources, work from home, timesheet, timesheets
travel advance, fuel advance, train ticket, flight booking, travel authorisation, travel authorization, travel request, travel insurance, car hire, rental car, boarding pass, hotel booking, per diem, per diems, daily allowance, subsistence allowance, transport allowance, allowances, expense claim, expense claims, travel claim, travel expense, reimbursement, reimburse, mileage rate, cash advance, petty cash, procurement, purchase request, purchase order, invoice, bus ticket, travel agent, travel policy, field allowance, night allowance, overnight allowance, vehicle request, vehicle booking, fuel card, parking fee, dsa, receipts for my per diem, expense receipts, taxi claim, taxi receipt, airport pickup, airport transfer, reimbursed
book a car, book vehicle, book a vehicle, pool car, staff bus, visa application, book a flight, flight ticket, book a hotel, hotel room booking, visa letter
new laptop, laptop repair, laptop replacement, desktop computer, docking station, second screen, photocopier, shared drive, network drive, email signature, distribution list, mailing list, calendar invite, meeting invite, teams meeting, skype, slack, microsoft office, office 365, powerpoint, blue screen, windows update, macbook, it ticket, helpdesk, help desk, service desk, office internet, software licence, software license, vpn, wifi password, wi-fi password, paper jam, jamming, printer jam, toner, laptop charger, outlook, mailbox, email account, out of office, sharepoint, onedrive, google drive, teams call, microsoft teams, windows login, windows password, antivirus, desk phone, phone extension, it helpdesk, it support, email password, new email account, shared mailbox, microsoft word, ms word, office licence, admin rights, slow computer, computer is slow, internet is down, no internet in the office, wifi is down, airtime claim, phone credit claim, new printer, printer driver, printer toner, zoom meeting, zoom call, zoom link, computer virus, wireless mouse, new keyboard, new monitor, office printer, colour printer, color printer, printer jammed, printer is jammed, windows laptop, laptop login
air conditioning, coffee machine, cafeteria, light bulb, elevator, fire drill, fire alarm, security guard, receptionist, visitor pass, locker, lockers, desk booking, hot desk, storeroom, store room, stationery, boardroom, office space, plumbing, mail room, courier, parcel, canteen, lunch menu, water dispenser, air conditioner, air con, aircon, parking, car park, parking permit, meeting room, conference room, first aid, office keys, cleaners, office chairs, opening hours, office supplies, standing desk, key card, keycard, building access, security badge, nursing room, prayer room, first aider, fire exit
google meet, google forms quiz, cheapest data bundles, funding, grant proposal, workplan, work plan, logframe, annual report, board meeting, stata, spss, tableau, looker, pivot table, pivot tables, regression, sample size, design effect, weighting, weight the data, dhis2, hmis, census figures, census population, immunisation coverage, immunization coverage, vaccination coverage, prevalence, donor report, ethics approval, ethics board, finance report, financial report, audit report, baseline report, evaluation report, kpi, quarterly report
happy birthday, happy friday, happy new year, merry christmas, congratulations, haha, joke, football, match yesterday, who won, what's your name, are you a bot, who made you, i love you, bored, what time is it, what day is it, happy holidays
`;

export interface TopicTerm {
  /** The entry as written, for saying what isn't covered. */
  label: string;
  /** Words of the entry as written (lower case, no stemming: "allowances" is not "allow"), phrases in order. */
  words: string[];
  /** The same words read as singulars (see `singular`), computed once: the lexicon is checked for every question. */
  singulars: string[];
}

export function parseTopics(text: string = WORKPLACE_TOPICS): TopicTerm[] {
  const out: TopicTerm[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    for (const entry of line.split(',')) {
      const label = entry.trim();
      const words = rawWords(label);
      if (words.length === 0 || seen.has(words.join(' '))) continue;
      seen.add(words.join(' '));
      out.push({ label, words, singulars: words.map(singular) });
    }
  }
  return out;
}

const DEFAULT_TOPICS = parseTopics();

/** Every word of a text, lower case, stop words kept, not stemmed: what topic entries are matched against. */
export function rawWords(text: string): string[] {
  return normalize(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

/**
 * A plural read as its singular (no stemming: "allowances" is not "allow"), for phrases only: "office
 * chair" raises "office chairs", the other words fixing the sense, while a single word keeps its
 * written form ("annual leave allowance" is not the "allowances" of travel).
 */
function singular(word: string): string {
  return word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

/**
 * The workplace topics a question raises that the given section text doesn't speak of: a phrase
 * counts as spoken of when its words occur in order in the section (one word between allowed).
 */
export function uncoveredTopics(
  questionWords: readonly string[],
  sectionWords: () => readonly string[],
  topics: readonly TopicTerm[] = DEFAULT_TOPICS,
): string[] {
  const asked = questionWords.map(singular);
  // Set lookups first: of the hundreds of entries, a question's words start only a few.
  const written = new Set(questionWords);
  const starts = new Set(asked);
  const phrase = (topic: TopicTerm) => topic.words.length > 1;
  const raised = topics.filter((topic) =>
    phrase(topic)
      ? starts.has(topic.singulars[0]!) && containsSequence(asked, topic.singulars, 0)
      : written.has(topic.words[0]!),
  );
  if (raised.length === 0) return [];
  const spoken = sectionWords();
  const section = spoken.map(singular);
  return raised
    .filter((topic) =>
      phrase(topic) ? !containsSequence(section, topic.singulars, 1) : !spoken.includes(topic.words[0]!),
    )
    .map((topic) => topic.label);
}
