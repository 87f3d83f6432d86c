import { readFileSync } from 'node:fs';
import { schemaValidator, sarifValidator, parseJunit } from './test/helpers/validators.ts';
const j = JSON.parse(readFileSync('/tmp/fleet-try/out.json','utf8'));
console.log('fleet', schemaValidator('analyze-fleet.schema.json')(j).slice(0,10));
console.log('sarif', sarifValidator()(JSON.parse(readFileSync('/tmp/fleet-try/out.sarif','utf8'))).slice(0,10));
const x = parseJunit(readFileSync('/tmp/fleet-try/out.xml','utf8'));
console.log(Object.keys(x), JSON.stringify(x).slice(0,300));
