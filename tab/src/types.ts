/** The API's shapes, from the server's own types (types only: nothing of the server is bundled). */
export type {
  CommunicationsMetrics,
  FlowLine,
  IssueFlow,
  MeasureStatus,
  OfficeHoursMetrics,
  Overview,
  PanelFlags,
  PulseMetrics,
  PulseResult,
  QuestionsPanel,
  SessionAttendance,
} from '../../src/adoption/metrics.js';
export type { IssueSummary, Person, Priority, Status } from '../../src/issues/model.js';
import type { IssueSummary, Person, Priority, Status } from '../../src/issues/model.js';
import type { PanelFlags } from '../../src/adoption/metrics.js';

export type Role = 'staff' | 'champion' | 'rolloutTeam';

export interface Me {
  user: { id: string; name: string };
  role: Role;
  roleLabel: string;
  via: 'sso' | 'demo';
  local: boolean;
  can: Record<string, boolean>;
  panels: PanelFlags;
  categories: string[];
  minAnswers: number;
}

export interface DemoUser {
  id: string;
  name: string;
  role: Role;
}

export type IssueList =
  | { mode: 'mine'; items: IssueSummary[]; next: string | null }
  /** Done issues in the order chosen; `truncated`: a chosen order covered only the `sorted` most recently closed. */
  | { mode: 'archive'; items: IssueSummary[]; next: string | null; sort: 'queue' | 'oldest' | 'newest' | 'priority'; truncated: boolean; sorted?: number }
  /** `next`: in queue order, where the next page starts (sent back as `after`), so triaging on a page skips nothing. */
  | { mode: 'board'; items: IssueSummary[]; total: number | null; hasMore: boolean; truncated: boolean; page: number; pageSize: number; start?: number; next?: string | null };

export interface IssueDetail {
  ref: string;
  title: string;
  description: string;
  location: string;
  category: string;
  site: string;
  severity: string;
  status: Status;
  priority: Priority | null;
  assignee: Person | null;
  reporter: { name: string };
  affectedCount: number;
  createdAt: string;
  updatedAt: string;
  version: number;
  /** The newest comments (the reader may see), oldest first; `olderComments` asks for the page before them. */
  comments: IssueComment[];
  commentCount: number;
  olderComments: string | null;
  transitions: Status[];
  /** False for a Closed issue: its priority and assignee are final. */
  editable: boolean;
}

export interface IssueComment {
  id: string;
  at: string;
  by: string;
  text: string;
  visibility: string;
}

/** `GET issues/:ref/comments?before=…`: the page of comments before that one. */
export interface CommentPage {
  comments: IssueComment[];
  commentCount: number;
  olderComments: string | null;
}
