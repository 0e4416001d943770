import { DECORATORS } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { ClientEntry } from '../../config/config-file.dto';
import { RegisterClientDto } from './clients-admin.dto';

const validated = (target: new () => object) =>
  [...new Set(getMetadataStorage().getTargetValidationMetadatas(target, '', true, false).map((rule) => rule.propertyName))].sort();
const documented = (target: new () => object) =>
  ((Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, target.prototype) as string[]) ?? []).map((name) => name.slice(1)).sort();

describe('RegisterClientDto', () => {
  it('documents exactly the fields of a config file client the admin API accepts (all but the secret)', () => {
    const accepted = validated(ClientEntry).filter((name) => name !== 'client_secret' && name !== 'client_secret_sha256');
    expect(documented(RegisterClientDto)).toEqual(accepted);
    expect(validated(RegisterClientDto)).toEqual(accepted);
  });
});
