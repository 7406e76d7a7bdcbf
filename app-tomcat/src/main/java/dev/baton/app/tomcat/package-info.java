/** Null-checked: nothing here is null unless marked {@code @Nullable}. */
@NullMarked
package dev.baton.app.tomcat;

import org.jspecify.annotations.NullMarked;
