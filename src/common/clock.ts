import { Injectable } from '@nestjs/common';

/** The time, behind a class so specs can move it. */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}
