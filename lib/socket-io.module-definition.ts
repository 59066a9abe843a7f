import { ConfigurableModuleBuilder, Inject } from '@nestjs/common';
import { SOCKET_IO_MODULE_OPTIONS } from './socket-io.constants.js';
import type { SocketIOModuleOptions } from './interfaces/socket-io-module-options.interface.js';

export const {
  ConfigurableModuleClass: ConfigurableSocketIOModule,
  OPTIONS_TYPE: SOCKET_IO_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SOCKET_IO_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SocketIOModuleOptions>({
  moduleName: 'SocketIO',
  optionsInjectionToken: SOCKET_IO_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSocketIOOptions')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** Injects the options the module was configured with. */
export const InjectSocketIOOptions = (): ParameterDecorator => Inject(SOCKET_IO_MODULE_OPTIONS);
