// Typed keys of the search attributes in DESIGN.md, for workflows and clients alike.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from './names.js';

export const AGENT_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.agent, SearchAttributeType.KEYWORD);
export const SESSION_KEY_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.sessionKey, SearchAttributeType.KEYWORD);
export const CHANNEL_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.channel, SearchAttributeType.KEYWORD);
export const STATE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.state, SearchAttributeType.KEYWORD);
