import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import type { LocalUser } from '../../config/app-config';
import { LocalUsersService } from './local-users.service';

export const LOCAL_STRATEGY = 'local';

/** passport-local over the config file's users (scrypt hashes; an unknown name costs as long as a wrong password). */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, LOCAL_STRATEGY) {
  constructor(private readonly users: LocalUsersService) {
    super({ usernameField: 'username', passwordField: 'password' });
  }

  async validate(username: string, password: string): Promise<LocalUser | false> {
    return (await this.users.verify(username, password)) ?? false;
  }
}
