#!/usr/bin/env node
// Runs s3rver (installed into .build/node by eng/install-test-deps.sh) with the same arguments, less one crash.
//
// s3rver 3.7.1 keeps a key's folders on disk and removes a folder when the last object in it is deleted. A put into
// that folder at the same moment creates the folder, loses it to the removal, fails to open its file, and the write
// stream's unhandled 'error' event kills the whole server: every later request is refused. Real S3 has no folders, so
// here they are simply kept (an empty folder lists nothing).
'use strict';

const path = require('path');
const { createRequire } = require('module');

const s3rverPackage = path.join(__dirname, '..', '.build', 'node', 'node_modules', 's3rver', 'package.json');
const fromS3rver = createRequire(s3rverPackage);
fromS3rver('fs-extra').rmdir = async () => {};
fromS3rver('./bin/s3rver.js');
