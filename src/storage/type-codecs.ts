/**
 * Registers the storage codec of every type (codecs.ts holds strings'):
 * imported once by the loader, so every codec is known before the first
 * load or commit.
 */
import './hash-set-codecs.js';
import './list-codec.js';
import './zset-codec.js';
import './stream-codec.js';
