import { Module } from '@nestjs/common';
import { DevicePageController } from './device-page.controller';

@Module({ controllers: [DevicePageController] })
export class WebModule {}
