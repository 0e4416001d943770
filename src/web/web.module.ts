import { Module } from '@nestjs/common';
import { DevicePageController } from './device-page.controller';
import { FaviconController } from './favicon.controller';

@Module({ controllers: [DevicePageController, FaviconController] })
export class WebModule {}
